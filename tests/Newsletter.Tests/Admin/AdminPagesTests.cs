using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The workspace's pages in headless Chromium against the real app on Kestrel: an editor signs in
/// with the one-time password by labels and the keyboard, chooses their own, opens the plan, adds an editor, sees the queue, opens a publication, and signs out; every page
/// passes axe-core without serious or critical violations, light and dark, desktop and phone width.</summary>
public sealed class AdminPagesTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Theory]
    [InlineData(1024, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task An_editor_signs_in_with_the_one_time_password_chooses_their_own_and_signs_out(int width, ColorScheme scheme)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var oneTime = await WorkspaceEditor.AddAsync(world.App);
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = world.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = 800 },
            ColorScheme = scheme,
        });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/admin");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "sign-in page");
        await page.GetByLabel("Email address").FillAsync("sam@example.org");
        await page.GetByLabel("Password").FillAsync("a wrong guess");
        await page.GetByLabel("Password").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("do not match");
        await WorkspaceBrowser.AssertAccessibleAsync(page, "sign-in page with a problem");
        await page.GetByLabel("Password").FillAsync(oneTime);
        await page.GetByLabel("Password").PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Choose your password" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "change-password page");
        await page.GetByLabel("Current password").FillAsync(oneTime);
        await page.GetByLabel("New password").FillAsync("tea at four, then the list");
        await page.GetByLabel("New password").PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Workspace" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "password changed" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "workspace page");
        // The page fits a phone: nothing wider than the screen.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Plan" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tip of the Week" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText(new Regex("^nothing queued for ")).First).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "plan page");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the plan is wider than the screen");

        await page.GetByRole(AriaRole.Link, new() { Name = "Editors" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Add an editor" })).ToBeVisibleAsync();
        await page.GetByLabel("Email address").FillAsync("kim@example.org");
        await page.GetByLabel("Email address").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("kim@example.org");
        await WorkspaceBrowser.AssertAccessibleAsync(page, "editors page");

        await world.App.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed");
        await world.App.RunCliOkAsync("issues", "queue", world.App.WriteFile("tip.md", TestData.TipIssue("Sent from the test")));
        await page.GetByRole(AriaRole.Link, new() { Name = "Queue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "#1 Sent from the test" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "queue page");
        await page.GetByRole(AriaRole.Link, new() { Name = "Send #1 now…" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send to 1 reader now" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "send-now page");
        await world.App.RunCliOkAsync("issues", "send-now", "1");
        await page.GotoAsync("/admin/publications/1");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Publication 1" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Row, new() { Name = "Status completed" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertAccessibleAsync(page, "publication page");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GotoAsync("/admin");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/sign-in"));
    }
}
