using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>An editor for the workspace's tests: made with the command line, signed in over HTTP.</summary>
internal static partial class WorkspaceEditor
{
    public const string Email = "sam@example.org";

    /// <summary>Runs <c>newsletter editors add</c> and returns the one-time password it printed.</summary>
    public static async Task<string> AddAsync(TestApp app, string email = Email) =>
        OneTimePassword((await app.RunCliOkAsync("editors", "add", email)).Out);

    public static string OneTimePassword(string output) => OneTimePasswordLine().Match(output).Groups[1].Value;

    /// <summary>A client on https (so the Secure cookie is kept) that does not follow redirects.</summary>
    public static HttpClient Client(TestWebApp web) => web.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
    });

    /// <summary>The antiforgery token of the page's form.</summary>
    public static string Token(string html) => AntiforgeryToken().Match(html).Groups[1].Value;

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        await client.PostAsync("/admin/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = email,
            ["password"] = password,
            ["__RequestVerificationToken"] = Token(await client.GetStringAsync("/admin/sign-in")),
        }));

    /// <summary>A client signed in as the editor made by <see cref="AddAsync"/>, past the one-time password's change.</summary>
    public static async Task<HttpClient> SignedInAsync(TestApp app, TestWebApp web, string password)
    {
        await using (var db = app.OpenDb())
        {
            await db.Editors.ExecuteUpdateAsync(u => u.SetProperty(e => e.MustChangePassword, false));
        }
        var client = Client(web);
        using var response = await SignInAsync(client, Email, password);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    [GeneratedRegex(@"One-time password \(shown once; hand it over privately\): (\S+)")]
    private static partial Regex OneTimePasswordLine();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
