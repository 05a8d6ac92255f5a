using System.Net;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The preview page shows the issue as the renderer makes it for readers, in frames that run no script,
/// light and dark; its size against Gmail's limit; and sends a real test email that is audited.</summary>
public sealed class PreviewPageTests
{
    [Fact]
    public async Task The_preview_frames_are_sandboxed_and_forced_light_or_dark_and_a_test_email_goes_out_marked_test()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("issues", "queue", TestData.SampleIssuePath("weekly-fact"));
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);

        var page = await client.GetStringAsync("/admin/issues/1/preview");
        Assert.Contains("<meter id=\"clip\"", page, StringComparison.Ordinal);
        Assert.Matches(@"\d+\.\d KB of HTML; Gmail clips emails over 102 KB", page);
        Assert.Equal(4, page.Split("<iframe", StringSplitOptions.None).Length - 1);
        Assert.Contains(" sandbox ", page, StringComparison.Ordinal);

        using var light = await client.GetAsync("/admin/issues/1/preview?handler=Html&scheme=light");
        using var dark = await client.GetAsync("/admin/issues/1/preview?handler=Html&scheme=dark");
        var lightHtml = await light.Content.ReadAsStringAsync();
        var darkHtml = await dark.Content.ReadAsStringAsync();
        Assert.Equal("SAMEORIGIN", light.Headers.GetValues("X-Frame-Options").Single());
        Assert.StartsWith("sandbox;", light.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("Sleep and mood talk to each other", lightHtml, StringComparison.Ordinal);
        Assert.Contains("https://news.example.org/unsubscribe/preview", lightHtml, StringComparison.Ordinal);
        Assert.Contains("@media not all", lightHtml, StringComparison.Ordinal);
        Assert.Contains("@media all", darkHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("prefers-color-scheme", darkHtml, StringComparison.Ordinal);
        // The workspace's other pages may not be framed at all.
        using var queue = await client.GetAsync("/admin/queue");
        Assert.Equal("DENY", queue.Headers.GetValues("X-Frame-Options").Single());

        var token = WorkspaceEditor.Token(page);
        using var refused = await Send("not an address");
        using var sent = await Send("editor@example.org");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("is not a single email address", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Contains("Sent &quot;[TEST] Fact of the Week", await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var message = MimeMessage.Load(Directory.GetFiles(app.PickupDirectory, "*.eml").Single());
        Assert.Equal("[TEST] Fact of the Week: sleep and mood talk to each other", message.Subject);
        Assert.Equal("editor@example.org", message.To.Mailboxes.Single().Address);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Publications.CountAsync());
        Assert.Equal(("test email sent", "issue 1", "editor@example.org"),
            await db.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action != "signed in").Select(a => ValueTuple.Create(a.Action, a.Target, a.Details)).SingleAsync());

        Task<HttpResponseMessage> Send(string address) => client.PostAsync("/admin/issues/1/preview?handler=Test",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["TestAddress"] = address, ["__RequestVerificationToken"] = token }));
    }

    [Fact]
    public async Task A_half_written_draft_says_why_it_does_not_render_instead_of_failing()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        await using (var db = app.OpenDb())
        {
            db.Issues.Add(new Newsletter.Worker.Data.Issue
            {
                Edition = "weekly-spotlight-gone", Subject = "", BodyMarkdown = "", Status = Newsletter.Worker.Data.IssueStatus.Draft,
            });
            await db.SaveChangesAsync();
        }

        using var response = await client.GetAsync("/admin/issues/1/preview");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("does not render yet", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var missing = await client.GetAsync("/admin/issues/99/preview");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
