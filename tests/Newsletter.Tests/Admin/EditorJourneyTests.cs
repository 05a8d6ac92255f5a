using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>An editor's whole round in headless Chromium against the real app on Kestrel and a real SMTP server:
/// sign in, write an issue, fix the problems shown, preview it, queue it, move it up, find it in the calendar,
/// send it now and watch the send reach 100 % while the SMTP server receives every message, then read the results.
/// Every page on the way passes axe-core.</summary>
public sealed class EditorJourneyTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const int Readers = 3;

    [Theory]
    [InlineData(1280, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task An_editor_writes_previews_queues_moves_sends_and_watches_an_issue_go_out(int width, ColorScheme scheme)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var oneTime = await WorkspaceEditor.AddAsync(world.App);
        for (var n = 1; n <= Readers; n++)
        {
            await world.App.RunCliOkAsync("subscribers", "add", $"reader{n}@example.org", "--confirmed");
        }
        // Queued on the world's clock, a minute before the issue the editor writes.
        var older = await world.App.RunCliAsync(["issues", "queue", world.App.WriteFile("older.md", TestData.TipIssue("Queued before"))],
            now: world.Time.GetUtcNow().AddMinutes(-1));
        Assert.Equal(0, older.ExitCode);
        await using var context = await WorkspaceBrowser.OpenAsync(chromium, world, width, scheme, height: 900);
        var page = await context.NewPageAsync();

        // Sign in, and choose a password.
        await page.GotoAsync("/admin");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "sign in");
        await page.GetByLabel("Email address").FillAsync(WorkspaceEditor.Email);
        await page.GetByLabel("Password").FillAsync(oneTime);
        await page.GetByLabel("Password").PressAsync("Enter");
        await page.GetByLabel("Current password").FillAsync(oneTime);
        await page.GetByLabel("New password").FillAsync("a walk before the list");
        await page.GetByLabel("New password").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Workspace" })).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "workspace");

        // Write: the first try has problems, each shown beside its field.
        await page.GetByRole(AriaRole.Link, new() { Name = "Issues", Exact = true }).ClickAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "issues");
        await page.GetByRole(AriaRole.Link, new() { Name = "Tip of the Week" }).ClickAsync();
        await page.GetByLabel("The tip").FillAsync("Step outside for five minutes.");
        await page.GetByLabel("Body (Markdown)").FillAsync("## Try this\n\nOpen the door, then [read why](/why).");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check and queue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("2 problems to fix");
        await Assertions.Expect(page.GetByLabel("Subject")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.Locator("#f-subject-problems")).ToContainTextAsync("'subject' is empty");
        await Assertions.Expect(page.Locator("#f-body-problems")).ToContainTextAsync("/why");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "write with problems");

        await page.GetByLabel("Subject").FillAsync("Tip of the Week: five minutes outside");
        await page.GetByLabel("Body (Markdown)").FillAsync("## Try this\n\nOpen the door and stand in the air for five minutes.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Draft saved");
        var frame = page.FrameLocator("iframe[title='The saved issue as a reader gets it']");
        await Assertions.Expect(frame.GetByText("Open the door and stand in the air")).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "write a draft");

        // Preview at every width and scheme, then queue it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Phone width, dark mode, size and a test email" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Preview of #2" })).ToBeVisibleAsync();
        await Assertions.Expect(page.FrameLocator("iframe[title='Phone width, dark']").GetByText("Open the door and stand in the air")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText(new Regex(@"KB of HTML; Gmail clips"))).ToBeVisibleAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "preview");
        await page.GetByRole(AriaRole.Link, new() { Name = "Edit #2" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Check and queue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Issue 2 is queued.");

        // Move it ahead of the issue queued before it; the calendar follows.
        await page.GetByRole(AriaRole.Button, new() { Name = "Move #2 earlier" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("moved earlier");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "queue");
        await page.GetByRole(AriaRole.Link, new() { Name = "Plan" }).ClickAsync();
        var tipSlots = page.Locator("h2:text-is('Tip of the Week') + table tbody tr").Filter(new() { HasText = "queued" });
        await Assertions.Expect(tipSlots.First).ToContainTextAsync("#2 Tip of the Week: five minutes outside");
        await Assertions.Expect(tipSlots.Nth(1)).ToContainTextAsync("#1 Queued before");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "plan");

        // Send it now and watch it go out.
        await page.GetByRole(AriaRole.Link, new() { Name = "Queue" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Send #2 now…" }).ClickAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "send now");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Send to {Readers} readers now" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Publication 1" })).ToBeVisibleAsync();
        // The page renders "100.0"; the live refresh writes the JSON number, "100".
        await Assertions.Expect(page.Locator("[data-field=percent]")).ToHaveTextAsync(new Regex(@"^100(\.0)?$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-field=sent]")).ToHaveTextAsync($"{Readers}");
        await world.Smtp.WaitForMessagesAsync(Readers, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, Readers).Select(n => $"reader{n}@example.org"),
            world.Smtp.Messages.SelectMany(m => m.RcptTo).Order());
        Assert.All(world.Smtp.Messages, m => Assert.Contains("five minutes outside", m.Message.Subject, StringComparison.Ordinal));

        // One reader leaves through the email's one-click link; the results count it against this issue.
        var leaving = world.Smtp.Messages.Single(m => m.RcptTo.Single() == "reader2@example.org").Message;
        var unsubscribe = leaving.Headers["List-Unsubscribe"]!.Split(',')[0].Trim('<', '>', ' ').Replace(TestApp.PublicBaseUrl, "", StringComparison.Ordinal);
        using (var left = await world.Client.PostAsync(unsubscribe, SignupWorld.Form(("List-Unsubscribe", "One-Click"))))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, left.StatusCode);
        }
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Row, new() { Name = "Status completed" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-result=delivered]")).ToHaveTextAsync($"{Readers}");
        await Assertions.Expect(page.Locator("[data-result=unsubscribed]")).ToContainTextAsync("1");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "publication");

        // The reader who left, as the readers' pages show them; then the editors and the account.
        await page.GetByRole(AriaRole.Link, new() { Name = "Readers" }).ClickAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "readers");
        await page.GetByRole(AriaRole.Link, new() { Name = "reader2@example.org" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "reader2@example.org" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("left");
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "reader");
        await page.GetByRole(AriaRole.Link, new() { Name = "Editors" }).ClickAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "editors");
        await page.GetByRole(AriaRole.Link, new() { Name = "Your account" }).ClickAsync();
        await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, "account");
    }
}
