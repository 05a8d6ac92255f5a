using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>
/// Who may enter the workspace: every /admin route, found from the app's route table (so a page added
/// later is covered), refuses an anonymous request and a form sent without the antiforgery token;
/// sign-in locks out after repeated failures and never tells an unknown address from a wrong password.
/// </summary>
public sealed partial class AdminAccessTests
{
    private const string Email = WorkspaceEditor.Email;

    private static HttpClient Client(TestWebApp web) => WorkspaceEditor.Client(web);

    private static Task<string> AddEditorAsync(TestApp app) => WorkspaceEditor.AddAsync(app);

    private static async Task<string> TokenAsync(HttpClient client, string path) => WorkspaceEditor.Token(await client.GetStringAsync(path));

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        WorkspaceEditor.SignInAsync(client, email, password);

    /// <summary>Every /admin route with a sample path (route values filled in), whether it is open to anyone,
    /// and whether it takes a POST.</summary>
    private static List<(string Path, bool Anonymous, bool Posts)> AdminRoutes(TestWebApp web) =>
        [.. web.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText!.TrimStart('/')).StartsWith("/admin", StringComparison.Ordinal))
            .Select(e => (
                RouteValue().Replace("/" + e.RoutePattern.RawText!.TrimStart('/'), "1"),
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null,
                e.Metadata.GetMetadata<HttpMethodMetadata>() is not { } methods || methods.HttpMethods.Contains("POST")))
            .Distinct()];

    [Fact]
    public async Task Every_admin_route_refuses_anonymous_requests_and_forms_without_the_antiforgery_token()
    {
        await using var app = TestApp.Create();
        var password = await AddEditorAsync(app);
        await using var web = app.CreateWebApp();
        var routes = AdminRoutes(web);
        // Not vacuous: the pages this test exists for are in the table.
        Assert.Contains(("/admin", false, true), routes);
        Assert.Contains(("/admin/change-password", false, true), routes);
        Assert.Contains(("/admin/sign-in", true, true), routes);
        Assert.Contains(("/admin/api/publications/1", false, false), routes);

        using var anonymous = Client(web);
        foreach (var (path, _, posts) in routes.Where(r => !r.Anonymous))
        {
            foreach (var method in posts ? new[] { HttpMethod.Get, HttpMethod.Post } : [HttpMethod.Get])
            {
                using var response = await anonymous.SendAsync(new HttpRequestMessage(method, path));
                if (path.StartsWith("/admin/api/", StringComparison.Ordinal))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {response.StatusCode} to an anonymous request");
                    continue;
                }
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{method} {path} answered {response.StatusCode} to an anonymous request");
                Assert.Equal("/admin/sign-in", response.Headers.Location!.AbsolutePath);
            }
        }

        using var editor = Client(web);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(editor, Email, password)).StatusCode);
        foreach (var (path, _, _) in routes.Where(r => r.Posts))
        {
            using var response = await editor.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["x"] = "y" }));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST {path} without the antiforgery token answered {response.StatusCode}");
        }
        using var signInWithoutToken = await anonymous.PostAsync("/admin/sign-in",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = Email, ["password"] = password }));
        Assert.Equal(HttpStatusCode.BadRequest, signInWithoutToken.StatusCode);
    }

    [Fact]
    public async Task The_cookie_is_http_only_secure_and_lax_and_the_pages_are_never_cached()
    {
        await using var app = TestApp.Create();
        var password = await AddEditorAsync(app);
        await using var web = app.CreateWebApp();
        using var client = Client(web);

        using var signedIn = await SignInAsync(client, Email, password);

        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("newsletter-editor=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        using var page = await client.GetAsync("/admin/sign-in");
        Assert.True(page.Headers.CacheControl!.NoStore, $"Cache-Control: {page.Headers.CacheControl}");
    }

    [Fact]
    public async Task A_one_time_password_must_be_changed_and_the_change_ends_other_sign_ins()
    {
        await using var app = TestApp.Create();
        var password = await AddEditorAsync(app);
        await using var web = app.CreateWebApp();
        using var first = Client(web);
        using var second = Client(web);
        await SignInAsync(first, Email, password);
        await SignInAsync(second, Email, password);

        using var gated = await first.GetAsync("/admin");
        Assert.Equal("/admin/change-password", gated.Headers.Location!.OriginalString);
        var token = await TokenAsync(first, "/admin/change-password");
        using var tooShort = await first.PostAsync("/admin/change-password", Form(token, password, "short"));
        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
        Assert.Contains("at least 12 characters", await tooShort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var changed = await first.PostAsync("/admin/change-password", Form(token, password, "a walk before the news"));

        Assert.Equal("/admin", changed.Headers.Location!.OriginalString);
        using var workspace = await first.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, workspace.StatusCode);
        Assert.Contains("password changed", await workspace.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var stale = await second.GetAsync("/admin");
        Assert.Equal("/admin/sign-in", stale.Headers.Location!.AbsolutePath);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(Client(web), Email, password)).StatusCode);

        static FormUrlEncodedContent Form(string token, string current, string next) => new(new Dictionary<string, string>
        {
            ["current"] = current,
            ["next"] = next,
            ["__RequestVerificationToken"] = token,
        });
    }

    [Fact]
    public async Task Repeated_wrong_passwords_lock_the_account_and_an_unknown_address_looks_like_a_wrong_password()
    {
        await using var app = TestApp.Create();
        var password = await AddEditorAsync(app);
        await using var web = app.CreateWebApp();
        using var client = Client(web);

        using var unknown = await SignInAsync(client, "nobody@example.org", password);
        using var wrong = await SignInAsync(client, Email, "not the password");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(Problem(await unknown.Content.ReadAsStringAsync()), Problem(await wrong.Content.ReadAsStringAsync()));
        for (var i = 2; i <= 5; i++)
        {
            await SignInAsync(client, Email, "not the password");
        }
        using var locked = await SignInAsync(client, Email, password);

        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        Assert.Contains("locked", Problem(await locked.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.NotNull((await db.Editors.SingleAsync()).LockedUntil);
        await app.RunCliOkAsync("editors", "reset-password", Email);
        Assert.Null((await db.Editors.AsNoTracking().SingleAsync()).LockedUntil);

        static string Problem(string html) => ProblemLine().Match(html).Groups[1].Value;
    }

    [Fact]
    public async Task Sign_in_attempts_are_limited_per_address()
    {
        await using var app = TestApp.Create();
        app.Set("Editors:SignInAttemptsPerMinute", "3");
        await AddEditorAsync(app);
        await using var web = app.CreateWebApp();
        using var client = Client(web);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await SignInAsync(client, Email, "not the password");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteValue();

    [GeneratedRegex("<p class=\"problem\" role=\"alert\">([^<]*)</p>")]
    private static partial Regex ProblemLine();
}
