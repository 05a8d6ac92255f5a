using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>An editor turns the service's emails to them on and off on /admin/account: saved, audited under
/// their name, refused without a sign-in or the antiforgery token; the page passes axe-core, light and dark.</summary>
public sealed class AccountPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task An_editor_mutes_a_notification_and_the_choice_is_saved_and_audited()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var page = await client.GetStringAsync("/admin/account");
        Assert.Equal(2, CountOf(page, "checked=\"checked\""));

        using var saved = await client.PostAsync("/admin/account", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["summaries"] = "true",
            ["__RequestVerificationToken"] = WorkspaceEditor.Token(page),
        }));

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Contains("Saved: empty-slot warnings off, publication summaries on.", await saved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, CountOf(await client.GetStringAsync("/admin/account"), "checked=\"checked\""));
        await using var db = app.OpenDb();
        var editor = await db.Editors.SingleAsync();
        Assert.Equal((true, false), (editor.MuteEmptySlotWarnings, editor.MutePublicationSummaries));
        var entry = await db.AuditLog.SingleAsync(a => a.Action == "notifications changed");
        Assert.Equal((WorkspaceEditor.Email, $"editor {WorkspaceEditor.Email}", "empty-slot warnings off, publication summaries on"),
            (entry.Actor, entry.Target, entry.Details));
    }

    [Fact]
    public async Task The_page_refuses_anonymous_requests_and_a_form_without_the_antiforgery_token()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var anonymous = WorkspaceEditor.Client(web);
        using var editor = await WorkspaceEditor.SignedInAsync(app, web, password);
        var mute = new Dictionary<string, string> { ["summaries"] = "false" };

        using var get = await anonymous.GetAsync("/admin/account");
        using var post = await anonymous.PostAsync("/admin/account", new FormUrlEncodedContent(mute));
        using var forged = await editor.PostAsync("/admin/account", new FormUrlEncodedContent(mute));

        Assert.Equal("/admin/sign-in", get.Headers.Location!.AbsolutePath);
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await using var db = app.OpenDb();
        Assert.False(await db.Editors.AnyAsync(e => e.MuteEmptySlotWarnings || e.MutePublicationSummaries));
        Assert.False(await db.AuditLog.AnyAsync(a => a.Action == "notifications changed"));
    }

    [Theory]
    [InlineData(1024, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task The_account_page_works_by_label_and_keyboard_and_passes_axe(int width, ColorScheme scheme)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var password = await WorkspaceEditor.AddAsync(world.App);
        await using var context = await WorkspaceBrowser.OpenAsync(chromium, world, width, scheme);
        var page = await WorkspaceBrowser.SignedInAsync(context, world, password);
        await page.GetByRole(AriaRole.Link, new() { Name = "Your account" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "account page");
        var summaries = page.GetByLabel("A summary after each publication finishes");
        await Assertions.Expect(summaries).ToBeCheckedAsync();
        await summaries.FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("publication summaries off");
        await Assertions.Expect(page.GetByLabel("A summary after each publication finishes")).Not.ToBeCheckedAsync();
        await Assertions.Expect(page.GetByLabel("When an edition's next slot has nothing queued")).ToBeCheckedAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "account page after saving");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than the screen");
        await using var check = world.App.OpenDb();
        Assert.True((await check.Editors.SingleAsync()).MutePublicationSummaries);
    }

    private static int CountOf(string text, string needle) => (text.Length - text.Replace(needle, "", StringComparison.Ordinal).Length) / needle.Length;
}
