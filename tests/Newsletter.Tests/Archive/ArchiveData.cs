using System.Globalization;
using System.Text.RegularExpressions;
using MimeKit;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Archive;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Archive;

/// <summary>Past issues for the archive's tests: written straight to the database (many, quickly), or queued and
/// sent through the command line as the editor does (the publisher then gives them their address).</summary>
internal static partial class ArchiveData
{
    public static readonly DateTime FirstPublished = new(2026, 1, 5, 14, 0, 0, DateTimeKind.Utc);

    /// <summary>A published issue as the publisher leaves it; <paramref name="day"/> days after <see cref="FirstPublished"/>.</summary>
    public static async Task<Issue> PublishedAsync(
        TestApp app, string edition, string subject, int day, string? preheader = null, bool inArchive = true)
    {
        await using var db = app.OpenDb();
        var published = FirstPublished.AddDays(day);
        var issue = new Issue
        {
            Edition = edition, Subject = subject, Preheader = preheader, Status = IssueStatus.Published, InArchive = inArchive,
            BodyMarkdown = $"## Try this\n\nIssue number {day}: breathe out slowly, **twice**.\n",
            QueuedAt = published.AddDays(-1), PublishedAt = published,
            ArchiveKey = $"{DateOnly.FromDateTime(published):yyyy-MM-dd}-{ArchiveKeys.Slug(subject)}",
        };
        db.Issues.Add(issue);
        await db.SaveChangesAsync();
        return issue;
    }

    /// <summary>Queues <paramref name="issueText"/> and sends it now with the command line; its id.</summary>
    public static async Task<int> SendNowAsync(TestApp app, string issueText)
    {
        var path = app.WriteFile($"issue-{Guid.NewGuid():N}.md", issueText);
        var id = await IssueQueueCliTests.QueueAsync(app, path);
        await app.RunCliOkAsync("issues", "send-now", id.ToString(CultureInfo.InvariantCulture));
        return id;
    }

    public static async Task<Issue> IssueAsync(TestApp app, int id)
    {
        await using var db = app.OpenDb();
        return db.Issues.Single(i => i.Id == id);
    }

    public static (string Html, string Text) Parts(MimeMessage message)
    {
        var alternative = (MultipartAlternative)message.Body!;
        return (((TextPart)alternative[^1]).Text, ((TextPart)alternative[0]).Text);
    }

    /// <summary>The path of the "view it on the web" link in an email part, under the public address.</summary>
    public static string WebLinkPath(string part)
    {
        var match = WebLink().Match(part);
        Assert.True(match.Success, "the email has no link to its web page:\n" + part[..Math.Min(part.Length, 2000)]);
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"https://news\.example\.org(/(?:archive|view)/[A-Za-z0-9_\-./]+?)(?=[""\s<]|$)")]
    private static partial Regex WebLink();

    public static string TipIssue(string subject, params string[] extraFrontMatter) => TestData.TipIssue(subject, extraFrontMatter);
}
