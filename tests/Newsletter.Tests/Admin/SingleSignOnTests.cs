using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Admin;

namespace Newsletter.Tests.Admin;

/// <summary>Sign-in through an OpenID Connect provider, in headless Chromium against the real app on Kestrel and a
/// real (minimal) provider on loopback: only an existing editor with a verified address gets in, and every refusal
/// comes back to the sign-in page as one fixed sentence.</summary>
public sealed class SingleSignOnTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string ButtonText = "Sign in with Example ID";

    /// <summary>The app configured for the provider. Its clock starts at the real time: the browser drops the
    /// protocol's correlation and nonce cookies when their expiry, from the app's clock, is already past for it.</summary>
    private static async Task<SignupWorld> StartAsync(TestOidcProvider provider)
    {
        var world = await SignupWorld.StartAsync(kestrel: true, time: new FakeTimeProvider(TimeProvider.System.GetUtcNow()), configure: app => app
            .Set("Editors:OpenIdConnect:Authority", provider.Authority)
            .Set("Editors:OpenIdConnect:ClientId", TestOidcProvider.ClientId)
            .Set("Editors:OpenIdConnect:ClientSecret", TestOidcProvider.ClientSecret)
            .Set("Editors:OpenIdConnect:DisplayName", ButtonText)
            .Set("Editors:OpenIdConnect:RequireHttpsMetadata", "false"));
        provider.RedirectUri = new Uri(world.BaseAddress!, SingleSignOn.CallbackPath).ToString();
        return world;
    }

    private async Task<IPage> PageAsync(SignupWorld world) =>
        await (await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = world.BaseAddress!.ToString() })).NewPageAsync();

    [Fact]
    public async Task An_editor_signs_in_through_the_provider_and_lands_on_the_page_they_asked_for_without_a_password_change()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var world = await StartAsync(provider);
        // A new account: its one-time password is still unchanged, which a password sign-in would have to change first.
        await WorkspaceEditor.AddAsync(world.App);
        provider.Email = "Sam@Example.org";
        var page = await PageAsync(world);

        await page.GotoAsync("/admin/queue");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = ButtonText }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Queue", Exact = true })).ToBeVisibleAsync();
        Assert.Equal("/admin/queue", new Uri(page.Url).AbsolutePath);
        Assert.Empty(provider.Refusals);
        Assert.Equal(1, provider.TokensIssued);
        await page.GotoAsync("/admin");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Workspace" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "signed in (single sign-on)" })).ToBeVisibleAsync();

        await using var db = world.App.OpenDb();
        var editor = await db.Editors.SingleAsync();
        Assert.Equal(world.Time.GetUtcNow().UtcDateTime, editor.LastSignInAt);
        Assert.True(editor.MustChangePassword, "the one-time password stays pending for a password sign-in");
        var entry = await db.AuditLog.OrderBy(a => a.Id).LastAsync();
        Assert.Equal((WorkspaceEditor.Email, "signed in (single sign-on)"), (entry.Actor, entry.Action));
    }

    [Fact]
    public async Task An_address_with_no_editors_account_is_refused_on_the_sign_in_page_and_no_account_is_made()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var world = await StartAsync(provider);
        await WorkspaceEditor.AddAsync(world.App);
        provider.Email = "kim@example.org";
        var page = await PageAsync(world);

        await page.GotoAsync("/admin/sign-in");
        await page.GetByRole(AriaRole.Link, new() { Name = ButtonText }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(SingleSignOn.Problems["no-account"]);
        Assert.Equal("/admin/sign-in", new Uri(page.Url).AbsolutePath);
        await WorkspaceBrowser.AssertAccessibleAsync(page, "sign-in page after a refused single sign-on");
        // The provider did its part; the refusal is the app's.
        Assert.Equal(1, provider.TokensIssued);
        await AssertSignedOutAsync(page);
        await using var db = world.App.OpenDb();
        Assert.Equal([WorkspaceEditor.Email], await db.Editors.Select(e => e.Email).ToListAsync());
        Assert.DoesNotContain(await db.AuditLog.Select(a => a.Action).ToListAsync(), a => a.StartsWith("signed in", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_address_the_provider_has_not_verified_is_refused()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var world = await StartAsync(provider);
        await WorkspaceEditor.AddAsync(world.App);
        provider.EmailVerified = false;
        var page = await PageAsync(world);

        await page.GotoAsync("/admin/sign-in");
        await page.GetByRole(AriaRole.Link, new() { Name = ButtonText }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(SingleSignOn.Problems["unverified"]);
        Assert.Equal(1, provider.TokensIssued);
        await AssertSignedOutAsync(page);
        await using var db = world.App.OpenDb();
        Assert.Null((await db.Editors.SingleAsync()).LastSignInAt);
    }

    [Fact]
    public async Task An_error_from_the_provider_is_a_fixed_sentence_on_the_sign_in_page_never_the_providers_text()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var world = await StartAsync(provider);
        await WorkspaceEditor.AddAsync(world.App);
        provider.Error = ("access_denied", "<b id=\"injected\">the provider's own words</b>");
        var page = await PageAsync(world);

        await page.GotoAsync("/admin/sign-in");
        await page.GetByRole(AriaRole.Link, new() { Name = ButtonText }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(SingleSignOn.Problems["failed"]);
        Assert.DoesNotContain("provider's own words", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, provider.TokensIssued);
        await AssertSignedOutAsync(page);
    }

    [Fact]
    public async Task Without_a_provider_the_sign_in_page_has_no_single_sign_on_and_its_address_leads_back()
    {
        await using var world = await SignupWorld.StartAsync();

        var html = await world.Client.GetStringAsync("/admin/sign-in");
        using var start = await world.Client.GetAsync(SingleSignOn.StartPath);
        var refused = await world.Client.GetStringAsync("/admin/sign-in?sso=no-account");

        Assert.Contains("<h1>Sign in</h1>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(SingleSignOn.StartPath, html, StringComparison.Ordinal);
        Assert.DoesNotContain("single sign-on", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        Assert.Equal("/admin/sign-in", start.Headers.Location!.OriginalString);
        // The page's messages come from a fixed set: an unknown code shows nothing.
        Assert.Contains("role=\"alert\">No editor", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("role=\"alert\"", await world.Client.GetStringAsync("/admin/sign-in?sso=%3Cscript%3E"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/admin/queue", "/admin/queue")]
    [InlineData("/admin?x=1", "/admin?x=1")]
    [InlineData("https://elsewhere.example/admin", "/admin")]
    [InlineData("//elsewhere.example/admin", "/admin")]
    [InlineData("/administrator", "/admin")]
    [InlineData("/admin/\\elsewhere.example", "/admin")]
    [InlineData(null, "/admin")]
    public void The_return_address_after_single_sign_on_is_a_workspace_page(string? asked, string expected) =>
        Assert.Equal(expected, SingleSignOn.WorkspaceReturnUrl(asked));

    [Theory]
    [InlineData("/realms/newsletter", "newsletter", "configuration: Editors:OpenIdConnect:Authority: '/realms/newsletter' is not an absolute")]
    [InlineData("http://login.example.org", "newsletter", "configuration: Editors:OpenIdConnect:Authority: 'http://login.example.org' must use https")]
    [InlineData("https://login.example.org", "", "configuration: Editors:OpenIdConnect:ClientId: is required")]
    public async Task A_provider_setting_that_cannot_work_stops_the_service_naming_the_key(string authority, string clientId, string problem)
    {
        await using var app = TestApp.Create();

        var result = await Cli.ServiceStartTests.StartServiceAsync(app,
            ("Editors__OpenIdConnect__Authority", authority), ("Editors__OpenIdConnect__ClientId", clientId));

        Assert.True(result.ExitCode == 2, $"expected exit 2\n{result}");
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(problem, line, StringComparison.Ordinal);
        Assert.Contains("Editors__OpenIdConnect__", line, StringComparison.Ordinal);
    }

    private static async Task AssertSignedOutAsync(IPage page)
    {
        await page.GotoAsync("/admin");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/sign-in"));
    }
}
