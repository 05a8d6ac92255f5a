using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Admin;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>
/// Every page, public and workspace, carries the security headers (a Content-Security-Policy with no inline
/// script and no framing, nosniff, no referrer); the pages that show a reader's address are never cached;
/// and HEAD is answered wherever GET is, with the same status and no body.
/// </summary>
public sealed class SecurityHeadersTests
{
    private sealed record Site(TestApp App, TestWebApp Web, HttpClient Public, HttpClient Editor, string Preferences, string Unsubscribe, string Confirm);

    private static async Task<Site> StartAsync()
    {
        var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--name", "Kim", "--confirmed");
        var password = await WorkspaceEditor.AddAsync(app);
        var web = app.CreateWebApp();
        var signer = web.Services.GetRequiredService<LinkTokenSigner>();
        string linkKey;
        using (var db = app.OpenDb())
        {
            linkKey = db.Subscribers.Single().LinkKey;
        }
        return new Site(app, web, WorkspaceEditor.Client(web), await WorkspaceEditor.SignedInAsync(app, web, password),
            "/preferences/" + signer.Sign(new LinkToken(TokenPurpose.Preferences, linkKey, "")),
            "/unsubscribe/" + signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, linkKey, "weekly-tip")),
            "/confirm/" + signer.Sign(new LinkToken(TokenPurpose.Confirm, linkKey, "")));
    }

    private static async Task DisposeAsync(Site site)
    {
        site.Public.Dispose();
        site.Editor.Dispose();
        await site.Web.DisposeAsync();
        await site.App.DisposeAsync();
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response, string what)
    {
        var policy = string.Join(", ", response.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.True(directives.GetValueOrDefault("default-src") == "default-src 'self'", $"{what}: {policy}");
        Assert.True(directives.GetValueOrDefault("script-src") == "script-src 'self'", $"{what}: scripts only from the site's files, never inline: {policy}");
        Assert.True(directives.GetValueOrDefault("frame-ancestors") == "frame-ancestors 'none'", $"{what}: {policy}");
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) && sniff.Single() == "nosniff", $"{what}: no nosniff");
        Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer) && referrer.Single() == "no-referrer", $"{what}: no Referrer-Policy");
    }

    [Fact]
    public async Task Every_public_and_workspace_page_carries_the_security_headers_and_the_pages_with_an_address_are_never_cached()
    {
        var site = await StartAsync();
        try
        {
            // Path, client, and whether the page shows the reader's address.
            (string Path, HttpClient Client, bool ShowsAddress)[] pages =
            [
                ("/subscribe", site.Public, false),
                ("/archive", site.Public, false),
                ("/archive/no-such-edition", site.Public, false),
                (site.Preferences, site.Public, true),
                (site.Unsubscribe, site.Public, true),
                (site.Confirm, site.Public, true),
                ("/admin/sign-in", site.Public, true),
                ("/admin", site.Editor, true),
                ("/admin/readers", site.Editor, true),
                ("/admin/readers/1", site.Editor, true),
            ];
            foreach (var (path, client, showsAddress) in pages)
            {
                using var response = await client.GetAsync(path);
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path} answered {response.StatusCode}");
                AssertSecurityHeaders(response, path);
                if (showsAddress)
                {
                    Assert.True(response.Headers.CacheControl?.NoStore == true, $"{path} may be cached: {response.Headers.CacheControl}");
                }
            }
            Assert.Contains("reader@example.org", await site.Public.GetStringAsync(site.Preferences), StringComparison.Ordinal);
            Assert.Contains("reader@example.org", await site.Editor.GetStringAsync("/admin/readers/1"), StringComparison.Ordinal);
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task The_email_preview_keeps_its_own_stricter_policy_and_may_be_framed_by_the_workspace_only()
    {
        var site = await StartAsync();
        try
        {
            await site.App.RunCliOkAsync("issues", "queue", site.App.WriteFile("tip.md", TestData.TipIssue()));

            using var response = await site.Editor.GetAsync("/admin/issues/1/preview?handler=Html");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
            Assert.StartsWith("sandbox; default-src 'none'", policy, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'self'", policy, StringComparison.Ordinal);
            Assert.Equal("SAMEORIGIN", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task HEAD_is_answered_wherever_GET_is_with_the_same_status_and_headers_and_no_body()
    {
        var site = await StartAsync();
        try
        {
            (string Path, HttpClient Client)[] pages =
            [
                ("/subscribe", site.Public),
                ("/archive", site.Public),
                (site.Preferences, site.Public),
                (site.Unsubscribe, site.Public),
                (site.Confirm, site.Public),
                ("/admin/sign-in", site.Public),
                ("/admin", site.Editor),
                ("/admin/readers/1", site.Editor),
            ];
            foreach (var (path, client) in pages)
            {
                using var get = await client.GetAsync(path);
                using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

                Assert.True(head.StatusCode == HttpStatusCode.OK, $"HEAD {path} answered {head.StatusCode}");
                Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
                Assert.True((await head.Content.ReadAsByteArrayAsync()).Length == 0, $"HEAD {path} sent a body");
                Assert.True((await get.Content.ReadAsByteArrayAsync()).Length > 0, $"GET {path} sent no body");
                AssertSecurityHeaders(head, "HEAD " + path);
            }

            // HEAD is GET without the body: it never gets past the sign-in, and never changes anything.
            using var anonymous = await site.Public.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/admin/readers/1"));
            Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
            using var post = await site.Public.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/webhooks/postmark"));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }
        finally
        {
            await DisposeAsync(site);
        }
    }
}
