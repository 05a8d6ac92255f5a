using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The readers' pages in headless Chromium: an editor searches, opens a reader and gives them an edition;
/// both pages pass axe-core without serious or critical violations and fit the screen, light and dark, desktop and phone.</summary>
public sealed class ReadersBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Theory]
    [InlineData(1024, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task An_editor_searches_opens_a_reader_and_subscribes_them_to_an_edition(int width, ColorScheme scheme)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var password = await WorkspaceEditor.AddAsync(world.App);
        await world.App.RunCliOkAsync("subscribers", "add", "kim.with.a.rather.long.address@example.org", "--name", "Kim", "--editions", "weekly-tip", "--confirmed");
        await world.App.RunCliOkAsync("subscribers", "add", "sam@example.org", "--name", "Sam");
        await using var context = await WorkspaceBrowser.OpenAsync(chromium, world, width, scheme);
        var page = await WorkspaceBrowser.SignedInAsync(context, world, password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Readers" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("2 readers match.");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "readers page");
        await page.GetByLabel("Address or name contains").FillAsync("KIM");
        await page.GetByLabel("Address or name contains").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("1 reader match.");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "readers page with a search");

        await page.GetByRole(AriaRole.Link, new() { Name = "kim.with.a.rather.long.address@example.org" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "kim.with.a.rather.long.address@example.org" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "reader page");
        await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe to Fact of the Week" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Done: subscribed to weekly-fact.");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Unsubscribe from Fact of the Week" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "reader page after a change");

        await using var check = world.App.OpenDb();
        Assert.Equal(SubscriptionStatus.Active, (await check.Subscriptions.SingleAsync(s => s.SubscriberId == 1 && s.Edition == "weekly-fact")).Status);
    }
}
