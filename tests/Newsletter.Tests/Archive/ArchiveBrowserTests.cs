using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Archive;

/// <summary>The archive in headless Chromium, as a visitor and a reader use it: the list, an issue, the call to
/// sign up, and an email's "view it on the web" link; axe-core on each page.</summary>
public sealed class ArchiveBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_visitor_goes_from_the_archive_to_an_issue_to_the_sign_up_form_and_a_reader_opens_the_same_issue_from_the_email()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        await world.App.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed", "--editions", "weekly-tip");
        await ArchiveData.SendNowAsync(world.App, File.ReadAllText(TestData.SampleIssuePath("weekly-tip")));
        await world.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
        var (emailHtml, _) = ArchiveData.Parts(world.Smtp.Messages[0].Message);

        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = world.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = 1024, Height = 900 },
        });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/archive");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Past issues", Level = 1 })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page, "archive-list");

        await page.GetByRole(AriaRole.Link, new() { Name = "Tip of the Week: pick one thing that counts as enough" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Pick one thing that counts as enough", Level = 1 })).ToBeVisibleAsync();
        Assert.Matches(@"/archive/weekly-tip/\d{4}-\d{2}-\d{2}-tip-of-the-week-pick-one-thing-that-counts-as-enough$", page.Url);
        await AssertAccessibleAsync(page, "archive-issue");
        var pageContent = await page.Locator(".content").InnerTextAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Subscribe to Tip of the Week" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign up for Steady Ground" })).ToBeVisibleAsync();
        Assert.EndsWith("/subscribe", page.Url, StringComparison.Ordinal);

        await page.GotoAsync("/archive/weekly-tip");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tip of the Week", Level = 1 })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page, "archive-edition");

        // The email as the reader got it, then its "view it on the web" link: the same headline and words.
        var email = await context.NewPageAsync();
        await email.SetContentAsync(emailHtml);
        var emailContent = await email.Locator(".content").InnerTextAsync();
        await email.GetByRole(AriaRole.Link, new() { Name = "View it on the web" }).WaitForAsync();
        var webView = await context.NewPageAsync();
        await webView.GotoAsync(ArchiveData.WebLinkPath(emailHtml).TrimStart('/'));
        Assert.Equal(await email.Locator("h1.headline").InnerTextAsync(), await webView.Locator("h1.headline").InnerTextAsync());
        Assert.Equal(emailContent, await webView.Locator(".content").InnerTextAsync());
        Assert.Equal(emailContent, pageContent);
        Assert.Contains("Eating one proper meal sitting down", emailContent, StringComparison.Ordinal);
    }

    private static async Task AssertAccessibleAsync(IPage page, string what)
    {
        await Screenshots.TakeAsync(page, what);
        var result = await page.RunAxe(new AxeRunOptions { Iframes = false }).WaitAsync(TimeSpan.FromMinutes(1));
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{what}: " + string.Join("; ", serious.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))})")));
    }
}
