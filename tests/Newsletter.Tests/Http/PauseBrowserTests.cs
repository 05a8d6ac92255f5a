using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Newsletter.Tests.Admin;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>
/// In headless Chromium: a reader opens the preferences link from an email they received, pauses for
/// two weeks, the next issue leaves them out, and once the pause is over the next one reaches them.
/// The pages pass axe-core paused and not, and the unsubscribe page with its pause offer does too.
/// </summary>
public sealed class PauseBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1024, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task A_reader_pauses_from_the_email_s_link_is_left_out_and_comes_back_when_the_pause_ends(int width, ColorScheme scheme)
    {
        // The pages' clock starts at the real time, so the sends (on the real clock) see the pause the page made.
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var world = await SignupWorld.StartAsync(kestrel: true, time: time);
        var app = world.App;
        await app.RunCliOkAsync("subscribers", "add", "resting@example.org", "--name", "Robin", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "reading@example.org", "--confirmed", "--editions", "weekly-tip");

        var first = await SendAsync(world, "A first tip", 2);
        var preferences = SignupWorld.LinkPath(first["resting@example.org"], "/preferences/");
        var unsubscribe = SignupWorld.LinkPath(first["reading@example.org"], "/unsubscribe/");

        await using var context = await WorkspaceBrowser.OpenAsync(chromium, world, width, scheme);
        var page = await context.NewPageAsync();
        await page.GotoAsync(preferences);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your preferences" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause for 3 months" }).ScrollIntoViewIfNeededAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "pause preferences");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause for 2 weeks" }).ClickAsync();

        var until = time.GetUtcNow().UtcDateTime.AddDays(14);
        await Assertions.Expect(page.Locator("#paused")).ToContainTextAsync(
            $"paused until {until.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)}");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume my emails now" })).ToBeVisibleAsync();
        await page.Locator("#paused").ScrollIntoViewIfNeededAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "pause preferences paused");

        await page.GotoAsync(unsubscribe);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause for 1 month" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "pause unsubscribe");

        // The next issue leaves the paused reader out, and no email told them anything about the pause.
        var second = await SendAsync(world, "A second tip", 1);
        Assert.Equal(["reading@example.org"], second.Keys);
        Assert.Equal(3, world.Smtp.Messages.Count);

        // Two weeks and a day later the pause is over: the page says so, and the next issue reaches them.
        time.Advance(TimeSpan.FromDays(15));
        await using (var db = app.OpenDb())
        {
            await db.Subscribers.Where(s => s.PausedUntil != null)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.PausedUntil, s => s.PausedUntil!.Value.AddDays(-15)));
        }
        await page.GotoAsync(preferences);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause for 2 weeks" })).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("#paused").CountAsync());
        var third = await SendAsync(world, "A third tip", 2);
        Assert.Contains("resting@example.org", third.Keys);
    }

    /// <summary>Queues a tip and sends it now; waits for <paramref name="expected"/> messages of it, by recipient.</summary>
    private static async Task<Dictionary<string, MimeKit.MimeMessage>> SendAsync(SignupWorld world, string subject, int expected)
    {
        var before = world.Smtp.Messages.Count;
        var id = await IssueQueueCliTests.QueueAsync(world.App, world.App.WriteFile($"{subject}.md", TestData.TipIssue(subject)));
        var sent = await world.App.RunCliOkAsync("issues", "send-now", id.ToString(CultureInfo.InvariantCulture));
        Assert.Contains($"to {expected} recipient(s)", sent.Out, StringComparison.Ordinal);
        await world.Smtp.WaitForMessagesAsync(before + expected, Wait);
        return world.Smtp.Messages.Skip(before).Where(m => m.Message.Subject == subject).ToDictionary(m => m.RcptTo.Single(), m => m.Message);
    }
}
