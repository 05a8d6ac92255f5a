using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Archive;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;

namespace Newsletter.Tests.Archive;

/// <summary>Publishing gives an issue its archive address, and the email sent for it links there in both parts
/// (or, for an issue kept out of the archive, to its private web view); sent over real SMTP and read back.</summary>
public sealed class ArchiveEmailTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_sent_issue_links_to_its_archive_page_in_both_parts_and_the_page_shows_the_same_issue()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port);
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed", "--editions", "weekly-tip");

        var id = await ArchiveData.SendNowAsync(app, ArchiveData.TipIssue("Tip of the Week: a slow breath out"));
        await smtp.WaitForMessagesAsync(1, Wait);
        var issue = await ArchiveData.IssueAsync(app, id);
        var (html, text) = ArchiveData.Parts(smtp.Messages[0].Message);

        Assert.NotNull(issue.ArchiveKey);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}-tip-of-the-week-a-slow-breath-out$", issue.ArchiveKey);
        var path = $"/archive/weekly-tip/{issue.ArchiveKey}";
        Assert.Equal(path, ArchiveData.WebLinkPath(html));
        Assert.Equal(path, ArchiveData.WebLinkPath(text));
        Assert.Contains("View it on the web", html, StringComparison.Ordinal);
        Assert.Contains($"View it on the web: https://news.example.org{path}", text, StringComparison.Ordinal);
        // Near the top: before the greeting in both parts.
        Assert.True(html.IndexOf("View it on the web", StringComparison.Ordinal) < html.IndexOf("Hi there,", StringComparison.Ordinal));
        Assert.True(text.IndexOf("View it on the web", StringComparison.Ordinal) < text.IndexOf("Hi there,", StringComparison.Ordinal));

        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();
        using var page = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var pageHtml = await page.Content.ReadAsStringAsync();
        Assert.Contains("Do <strong>one</strong> kind thing for yourself today, however small.", pageHtml, StringComparison.Ordinal);
        Assert.Contains("Do <strong>one</strong> kind thing for yourself today, however small.", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_issue_kept_out_of_the_archive_carries_one_private_link_for_every_reader_that_opens_it()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port);
        await app.RunCliOkAsync("subscribers", "add", "a@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "b@example.org", "--confirmed", "--editions", "weekly-tip");

        var id = await ArchiveData.SendNowAsync(app, ArchiveData.TipIssue("Tip of the Week: only for you", "archive: false"));
        await smtp.WaitForMessagesAsync(2, Wait);
        var issue = await ArchiveData.IssueAsync(app, id);
        Assert.False(issue.InArchive);

        var links = smtp.Messages.SelectMany(m => { var (html, text) = ArchiveData.Parts(m.Message); return new[] { ArchiveData.WebLinkPath(html), ArchiveData.WebLinkPath(text) }; })
            .Distinct().ToList();
        var link = Assert.Single(links);
        Assert.StartsWith("/view/", link, StringComparison.Ordinal);

        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();
        using var view = await client.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        Assert.Contains("kind thing for yourself", await view.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var wouldBe = await client.GetAsync($"/archive/weekly-tip/{issue.ArchiveKey}");
        Assert.Equal(HttpStatusCode.NotFound, wouldBe.StatusCode);
    }

    [Fact]
    public async Task Two_issues_with_one_subject_on_one_day_get_distinct_addresses_and_keep_them()
    {
        await using var app = TestApp.Create();
        var first = await ArchiveData.SendNowAsync(app, ArchiveData.TipIssue("Tip of the Week: rest"));
        var second = await ArchiveData.SendNowAsync(app, ArchiveData.TipIssue("Tip of the Week: rest"));

        var a = (await ArchiveData.IssueAsync(app, first)).ArchiveKey!;
        var b = (await ArchiveData.IssueAsync(app, second)).ArchiveKey!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}-tip-of-the-week-rest$", a);
        Assert.Equal(a + "-2", b);
    }

    [Fact]
    public async Task Issues_published_before_the_archive_existed_get_their_address_from_their_slot_at_start_once()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        int issueId;
        await using (var db = app.OpenDb())
        {
            var issue = new Issue
            {
                Edition = "weekly-fact", Subject = "Fact: Über-tired is a real thing", BodyMarkdown = "Hello.", Status = IssueStatus.Published,
                QueuedAt = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc), PublishedAt = new DateTime(2026, 3, 3, 2, 0, 0, DateTimeKind.Utc),
            };
            db.Issues.Add(issue);
            await db.SaveChangesAsync();
            issueId = issue.Id;
            // 02:00 UTC on 3 March is still 2 March in New York, the edition's time zone.
            db.Publications.Add(new Publication
            {
                Edition = "weekly-fact", SlotUtc = new DateTime(2026, 3, 3, 2, 0, 0, DateTimeKind.Utc), Kind = PublicationKind.SendNow,
                Status = PublicationStatus.Completed, IssueId = issue.Id, CreatedAt = new DateTime(2026, 3, 3, 2, 0, 0, DateTimeKind.Utc),
            });
            db.Issues.Add(new Issue { Edition = "weekly-fact", Subject = "Queued", BodyMarkdown = "Hi.", Status = IssueStatus.Queued });
            await db.SaveChangesAsync();
        }

        await app.CreateDatabaseAsync();
        await app.CreateDatabaseAsync();

        await using (var db = app.OpenDb())
        {
            var keys = await db.Issues.AsNoTracking().OrderBy(i => i.Id).Select(i => i.ArchiveKey).ToListAsync();
            Assert.Equal(["2026-03-02-fact-uber-tired-is-a-real-thing", null], keys);
        }
        Assert.True(issueId > 0);
    }

    [Theory]
    [InlineData("Tip of the Week: pick one thing", "tip-of-the-week-pick-one-thing")]
    [InlineData("  Ça va? Crème brûlée, naïve café!  ", "ca-va-creme-brulee-naive-cafe")]
    [InlineData("Straße, smørrebrød & Œuvre", "strasse-smorrebrod-oeuvre")]
    [InlineData("😊 ✨ ---", "issue")]
    [InlineData("", "issue")]
    [InlineData("A very long subject that goes on and on about sleeping well and waking up rested every day", "a-very-long-subject-that-goes-on-and-on-about-sleeping-well")]
    public void A_subjects_slug_is_lower_case_ascii_with_dashes_never_empty_and_at_most_sixty_characters(string subject, string slug)
    {
        Assert.Equal(slug, ArchiveKeys.Slug(subject));
        Assert.InRange(ArchiveKeys.Slug(subject).Length, 1, ArchiveKeys.MaxSlugLength);
    }

    [Fact]
    public void Archive_false_in_the_front_matter_or_the_workspace_form_keeps_an_issue_out_and_anything_else_is_refused()
    {
        var editions = new EditionsOptions();
        EditionsExtensions.BindEditions(editions, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build().GetSection("Editions"));

        var (kept, _) = IssueFile.Parse(TestData.TipIssue("A tip"), editions);
        var (hidden, _) = IssueFile.Parse(TestData.TipIssue("A tip", "archive: false"), editions);
        var (bad, problems) = IssueFile.Parse(TestData.TipIssue("A tip", "archive: maybe"), editions);
        Assert.True(kept!.InArchive);
        Assert.False(hidden!.InArchive);
        Assert.Null(bad);
        Assert.Contains(problems, p => p.Line == 4 && p.Message.Contains("archive 'maybe' must be true or false", StringComparison.Ordinal));

        var form = new IssueForm { Edition = "weekly-tip", Subject = "A tip", Body = "Hello there.", Archive = false };
        var (file, fields) = form.ToFile(EditionFormat.Tip);
        var (fromForm, formProblems) = IssueFile.Parse(file, editions);
        Assert.Empty(formProblems);
        Assert.False(fromForm!.InArchive);
        Assert.Contains("archive", fields);
        Assert.False(IssueForm.From(new Issue { Edition = "weekly-tip", Subject = "s", BodyMarkdown = "b", InArchive = false }).Archive);
        Assert.True(IssueForm.From(new Issue { Edition = "weekly-tip", Subject = "s", BodyMarkdown = "b" }).Archive);
    }
}
