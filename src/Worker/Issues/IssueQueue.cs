using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Scheduling;

namespace Newsletter.Worker.Issues;

public sealed record QueueResult(Issue? Issue, IReadOnlyList<string> Problems);

/// <summary>The editor's queue: validate and queue issue files, list, preview and cancel them.</summary>
public sealed class IssueQueue(
    NewsletterDbContext db, IOptions<EditionsOptions> editions, EditionEmailFactory emails, IEmailRenderer renderer,
    TimeProvider time)
{
    /// <summary>Gmail clips messages whose HTML is larger than about 102 KB.</summary>
    public const int MaxHtmlBytes = 102 * 1024;

    /// <summary>Validates an issue file and queues it. Any problem means nothing is queued; each
    /// problem is reported as <c>file:line: message</c>.</summary>
    public async Task<QueueResult> QueueFileAsync(string path, CancellationToken cancellationToken = default)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new QueueResult(null, [$"{path}: cannot read the file: {ex.Message}"]);
        }
        var (parsed, problems) = IssueFile.Parse(text, editions.Value);
        if (parsed is null)
        {
            return new QueueResult(null, problems.Select(p => p.Format(path)).ToList());
        }

        var renderProblems = await CheckRendersAsync(parsed, path, cancellationToken);
        if (renderProblems.Count > 0)
        {
            return new QueueResult(null, renderProblems);
        }

        var issue = new Issue
        {
            Edition = parsed.Edition,
            Subject = parsed.Subject,
            Preheader = parsed.Preheader,
            SendOn = parsed.SendOn,
            ExtrasJson = JsonSerializer.Serialize(parsed.Extras, EditionEmailFactory.Json),
            BodyMarkdown = parsed.BodyMarkdown,
            SourceFile = Path.GetFullPath(path),
            Status = IssueStatus.Queued,
            QueuedAt = time.GetUtcNow().UtcDateTime,
        };
        db.Issues.Add(issue);
        await db.SaveChangesAsync(cancellationToken);
        return new QueueResult(issue, []);
    }

    /// <summary>Renders the issue as readers will get it; a template error or an email over Gmail's
    /// clipping size refuses it.</summary>
    private async Task<List<string>> CheckRendersAsync(ParsedIssue parsed, string path, CancellationToken cancellationToken)
    {
        var schedule = new EditionSchedule(editions.Value.Get(parsed.Edition));
        var date = parsed.SendOn ?? schedule.LocalDate(schedule.NextSlotAfter(time.GetUtcNow()) ?? time.GetUtcNow());
        try
        {
            var prepared = await renderer.PrepareAsync(emails.Create(parsed, date), cancellationToken);
            if (prepared.HtmlByteCount > MaxHtmlBytes)
            {
                return [$"{path}: the email would be {prepared.HtmlByteCount / 1024.0:0.0} KB of HTML; Gmail clips anything over {MaxHtmlBytes / 1024} KB, so shorten the issue"];
            }
            return [];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return [$"{path}: the issue does not render: {ex.Message}"];
        }
    }

    public IQueryable<Issue> List(string? edition, bool includeDone) => db.Issues.AsNoTracking()
        .Where(i => edition == null || i.Edition == edition)
        .Where(i => includeDone || i.Status == IssueStatus.Queued)
        .OrderBy(i => i.Edition).ThenBy(i => i.Status).ThenBy(i => i.SendOn).ThenBy(i => i.QueuedAt).ThenBy(i => i.Id);

    public Task<Issue?> FindAsync(int id, CancellationToken cancellationToken = default) =>
        db.Issues.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);

    /// <summary>Takes a queued issue out of the queue. Returns false when it is not queued (already
    /// published, cancelled or unknown).</summary>
    public async Task<bool> CancelAsync(int id, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.Issues.Where(i => i.Id == id && i.Status == IssueStatus.Queued)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.Status, IssueStatus.Cancelled)
                .SetProperty(i => i.CancelledAt, now), cancellationToken) > 0;
    }

    /// <summary>The issue rendered for a sample reader, as it will look in an inbox.</summary>
    public async Task<RenderedEmail> PreviewAsync(Issue issue, CancellationToken cancellationToken = default)
    {
        var schedule = new EditionSchedule(editions.Value.Get(issue.Edition));
        var date = issue.SendOn ?? schedule.LocalDate(schedule.NextSlotAfter(time.GetUtcNow()) ?? time.GetUtcNow());
        var prepared = await renderer.PrepareAsync(emails.Create(issue, date), cancellationToken);
        var baseUrl = emails.Brand.PublicBaseUrl;
        return prepared.Personalize(new PersonalFields("Sam", $"{baseUrl}/unsubscribe/preview", null));
    }
}
