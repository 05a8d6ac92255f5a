using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Issues;

public sealed record QueueResult(Issue? Issue, IReadOnlyList<string> Problems);

/// <summary>The editor's queue: validate and queue issue files, list, preview and cancel them.</summary>
public sealed partial class IssueQueue(
    NewsletterDbContext db, IOptions<EditionsOptions> editions, EditionEmailFactory emails, IEmailRenderer renderer,
    TimeProvider time)
{
    /// <summary>Gmail clips messages whose HTML is larger than about 102 KB.</summary>
    public const int MaxHtmlBytes = 102 * 1024;

    /// <summary>Validates an issue file and queues it. Any problem means nothing is queued; each
    /// problem is reported as <c>file:line: message</c>.</summary>
    public async Task<QueueResult> QueueFileAsync(string path, CancellationToken cancellationToken = default) =>
        await QueueFileAsync(path, allowDuplicate: false, cancellationToken);

    /// <summary>As <see cref="QueueFileAsync(string, CancellationToken)"/>; an issue identical to one still
    /// queued (a file queued twice by mistake) is refused unless <paramref name="allowDuplicate"/>.</summary>
    public async Task<QueueResult> QueueFileAsync(string path, bool allowDuplicate, CancellationToken cancellationToken = default)
    {
        var (text, unreadable) = await IssueFileLimits.ReadAsync(path, cancellationToken);
        if (text is null)
        {
            return new QueueResult(null, [unreadable!]);
        }
        var (parsed, problems) = await CheckAsync(text, allowDuplicate ? null : 0, cancellationToken);
        if (parsed is null)
        {
            return new QueueResult(null, problems.Select(p => p.Format(path)).ToList());
        }
        var issue = ToIssue(parsed, path);
        issue.QueuedAt = time.GetUtcNow().UtcDateTime;
        db.Issues.Add(issue);
        await db.SaveChangesAsync(cancellationToken);
        return new QueueResult(issue, []);
    }

    /// <summary>
    /// Every check <c>issues queue</c> makes, on an issue file's text: the front matter and body, the
    /// pinned date, a twin already queued (unless <paramref name="twinCheckExcept"/> is null; else the
    /// issue it names, being edited, is not its own twin), and the email as readers would get it.
    /// </summary>
    public async Task<(ParsedIssue? Issue, IReadOnlyList<IssueProblem> Problems)> CheckAsync(
        string text, int? twinCheckExcept, CancellationToken cancellationToken = default)
    {
        var (parsed, problems) = IssueFile.Parse(text, editions.Value);
        if (parsed is null)
        {
            return (null, problems);
        }
        if (CheckPinnedDate(parsed) is { } pinnedProblem)
        {
            return (null, [pinnedProblem]);
        }
        if (twinCheckExcept is { } except && await FindQueuedTwinAsync(ToIssue(parsed, null), except, cancellationToken) is { } twin)
        {
            return (null, [new IssueProblem(0,
                $"this issue is already queued as issue {twin} (same edition, subject, front matter and body); to queue it a second time, add --allow-duplicate")]);
        }
        var renderProblems = await CheckRendersAsync(parsed, cancellationToken);
        return renderProblems.Count > 0 ? (null, renderProblems) : (parsed, []);
    }

    private Task<int?> FindQueuedTwinAsync(Issue issue, int except, CancellationToken cancellationToken) => db.Issues.AsNoTracking()
        .Where(i => i.Status == IssueStatus.Queued && i.Id != except && i.Edition == issue.Edition && i.Subject == issue.Subject
                    && i.Preheader == issue.Preheader && i.SendOn == issue.SendOn && i.ExtrasJson == issue.ExtrasJson
                    && i.BodyMarkdown == issue.BodyMarkdown)
        .OrderBy(i => i.Id).Select(i => (int?)i.Id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// An issue pinned with <c>send_on</c> goes out at that day's slot; a date with no slot of the
    /// edition, or whose slot has passed, would leave it in the queue for ever, so it is refused.
    /// </summary>
    private IssueProblem? CheckPinnedDate(ParsedIssue parsed) =>
        parsed.SendOn is { } date && PinProblem(parsed.Edition, date) is { } problem ? new IssueProblem(parsed.SendOnLine, problem) : null;

    /// <summary>Why an issue of the edition cannot be pinned to the day (no slot that day, or it has passed); null when it can.</summary>
    private string? PinProblem(string editionKey, DateOnly date)
    {
        var edition = editions.Value.Get(editionKey);
        var schedule = new EditionSchedule(edition);
        var now = time.GetUtcNow();
        // The first slot on or after the start of that day, in the edition's own zone.
        var midnight = date.ToDateTime(TimeOnly.MinValue);
        if (schedule.TimeZone.IsInvalidTime(midnight))
        {
            midnight = midnight.AddHours(1); // the zone skips midnight that day (a DST change)
        }
        var dayStart = TimeZoneInfo.ConvertTimeToUtc(midnight, schedule.TimeZone);
        var slot = schedule.NextSlotAfter(new DateTimeOffset(dayStart, TimeSpan.Zero).AddTicks(-1));
        if (slot is not { } s || schedule.LocalDate(s) != date)
        {
            var upcoming = schedule.NextSlots(now, 3).Select(schedule.Describe);
            return $"send_on {date:yyyy-MM-dd} is not a day {edition.DisplayName} goes out; its next slots are {string.Join("; ", upcoming)}";
        }
        return s <= now ? $"send_on {date:yyyy-MM-dd}: that day's slot ({schedule.Describe(s)}) has already passed" : null;
    }

    /// <summary>Pins a queued issue to a day's slot (or unpins it with null), checked as a file's send_on is.
    /// Null when done, else why not.</summary>
    public async Task<string?> PinAsync(int id, DateOnly? date, CancellationToken cancellationToken = default)
    {
        if (await db.Issues.FirstOrDefaultAsync(i => i.Id == id && i.Status == IssueStatus.Queued, cancellationToken) is not { } issue)
        {
            return $"issue {id} is not queued";
        }
        if (date is { } day)
        {
            if (PinProblem(issue.Edition, day) is { } problem)
            {
                return problem;
            }
            if (await db.Issues.AnyAsync(i => i.Id != id && i.Edition == issue.Edition && i.Status == IssueStatus.Queued && i.SendOn == day, cancellationToken))
            {
                return $"another queued issue is already pinned to {day:yyyy-MM-dd}";
            }
        }
        issue.SendOn = date;
        await db.SaveChangesAsync(cancellationToken);
        return null;
    }

    /// <summary>
    /// Renders the issue as readers will get it and lints the result: a template error, an email over
    /// Gmail's clipping size, or a rendered email missing its unsubscribe link, postal address or
    /// disclaimer, or carrying a link that is not absolute https or an image without alt text, refuses
    /// it — each with its own reason.
    /// </summary>
    private async Task<List<IssueProblem>> CheckRendersAsync(ParsedIssue parsed, CancellationToken cancellationToken)
    {
        var schedule = new EditionSchedule(editions.Value.Get(parsed.Edition));
        var date = parsed.SendOn ?? schedule.LocalDate(schedule.NextSlotAfter(time.GetUtcNow()) ?? time.GetUtcNow());
        PreparedEmail prepared;
        try
        {
            prepared = await renderer.PrepareAsync(emails.Create(parsed, date), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return [new IssueProblem(0, $"the issue does not render: {ex.Message}")];
        }
        return Lint(prepared).Select(p => new IssueProblem(0, p)).ToList();
    }

    /// <summary>Every reason the prepared issue must not go out, as readers would get it (empty when it may).</summary>
    internal IReadOnlyList<string> Lint(PreparedEmail prepared)
    {
        var problems = new List<string>();
        if (prepared.HtmlByteCount > MaxHtmlBytes)
        {
            problems.Add($"the email would be {prepared.HtmlByteCount / 1024.0:0.0} KB of HTML ({prepared.HtmlByteCount:N0} bytes); Gmail clips anything over {MaxHtmlBytes / 1024} KB ({MaxHtmlBytes:N0} bytes), hiding the footer and its unsubscribe link, so shorten the issue");
        }
        var brand = emails.Brand;
        var unsubscribeUrl = $"{brand.PublicBaseUrl}/unsubscribe/lint-check";
        var rendered = prepared.Personalize(new PersonalFields("Sam", unsubscribeUrl));
        var expected = new EmailLintExpectations(unsubscribeUrl, brand.PostalAddress, brand.Disclaimer, brand.PublicBaseUrl);
        problems.AddRange(EmailLint.Check(rendered, expected).Select(p => p.Message));
        return problems;
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

    /// <summary>Moves an unpinned queued issue one place earlier (<paramref name="earlier"/>) or later among
    /// its edition's unpinned queue, by trading queue times with its neighbour. False when it cannot move.</summary>
    public async Task<bool> MoveAsync(int id, bool earlier, CancellationToken cancellationToken = default)
    {
        if (await db.Issues.FirstOrDefaultAsync(i => i.Id == id && i.Status == IssueStatus.Queued && i.SendOn == null, cancellationToken)
            is not { } issue)
        {
            return false;
        }
        // The publisher's order: oldest queue time first, then id.
        var line = await db.Issues.Where(i => i.Edition == issue.Edition && i.Status == IssueStatus.Queued && i.SendOn == null)
            .OrderBy(i => i.QueuedAt).ThenBy(i => i.Id).ToListAsync(cancellationToken);
        var at = line.FindIndex(i => i.Id == id);
        var other = earlier ? at - 1 : at + 1;
        if (other < 0 || other >= line.Count)
        {
            return false;
        }
        var (first, second) = earlier ? (issue, line[other]) : (line[other], issue);
        // "first" must now come before "second"; equal times would leave the ids deciding.
        (first.QueuedAt, second.QueuedAt) = (second.QueuedAt, first.QueuedAt);
        if (first.QueuedAt >= second.QueuedAt)
        {
            first.QueuedAt = second.QueuedAt.AddTicks(-1);
        }
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// An issue to look at: a queued issue by its id, or an issue file not yet queued (not saved; its
    /// <see cref="Issue.Id"/> is 0). A file with problems gives them, each as <c>file:line: message</c>.
    /// </summary>
    public async Task<(Issue? Issue, IReadOnlyList<string> Problems)> LoadAsync(string idOrFile, CancellationToken cancellationToken = default)
    {
        if (int.TryParse(idOrFile, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
        {
            return await FindAsync(id, cancellationToken) is { } found
                ? (found, [])
                : (null, [$"there is no issue {id} (see 'issues list'); to look at a file, give its path"]);
        }
        var (text, unreadable) = await IssueFileLimits.ReadAsync(idOrFile, cancellationToken);
        if (text is null)
        {
            return (null, [unreadable!]);
        }
        var (parsed, problems) = IssueFile.Parse(text, editions.Value);
        if (parsed is null)
        {
            return (null, problems.Select(p => p.Format(idOrFile)).ToList());
        }
        return (ToIssue(parsed, idOrFile), []);
    }

    private static Issue ToIssue(ParsedIssue parsed, string? path) => new()
    {
        Edition = parsed.Edition,
        Subject = parsed.Subject,
        Preheader = parsed.Preheader,
        SendOn = parsed.SendOn,
        ExtrasJson = JsonSerializer.Serialize(parsed.Extras, EditionEmailFactory.Json),
        BodyMarkdown = parsed.BodyMarkdown,
        SourceFile = path is null ? null : Path.GetFullPath(path),
        Status = IssueStatus.Queued,
        InArchive = parsed.InArchive,
    };

    /// <summary>The link a preview or test message carries instead of a real unsubscribe link:
    /// it unsubscribes nobody.</summary>
    public string PreviewUnsubscribeUrl => $"{emails.Brand.PublicBaseUrl}/unsubscribe/preview";

    /// <summary>The "Manage your editions" link every real email carries, in a form that opens nobody's preferences.</summary>
    public string PreviewPreferencesUrl => $"{emails.Brand.PublicBaseUrl}/preferences/preview";

    /// <summary>The issue rendered for a sample reader, as it will look in an inbox.</summary>
    public async Task<RenderedEmail> PreviewAsync(Issue issue, CancellationToken cancellationToken = default) =>
        await PreviewAsync(issue, "Sam", cancellationToken);

    /// <summary>The issue rendered for a reader called <paramref name="name"/> (null: no name) with every
    /// personal part a real send fills in, as the harmless <see cref="PreviewUnsubscribeUrl"/> and <see cref="PreviewPreferencesUrl"/>.</summary>
    public async Task<RenderedEmail> PreviewAsync(Issue issue, string? name, CancellationToken cancellationToken = default)
    {
        var schedule = new EditionSchedule(editions.Value.Get(issue.Edition));
        var date = issue.SendOn ?? schedule.LocalDate(schedule.NextSlotAfter(time.GetUtcNow()) ?? time.GetUtcNow());
        var prepared = await renderer.PrepareAsync(emails.Create(issue, date), cancellationToken);
        return prepared.Personalize(new PersonalFields(name, PreviewUnsubscribeUrl, PreviewPreferencesUrl));
    }
}
