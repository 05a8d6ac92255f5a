using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Admin.Readers;

/// <summary>The states the readers' list filters by.</summary>
public enum ReaderState
{
    /// <summary>Chose the edition (or any) but has not confirmed it yet: receives nothing.</summary>
    Pending,

    /// <summary>Receives the edition (or at least one).</summary>
    Confirmed,

    /// <summary>Left the edition; without an edition, left every one.</summary>
    Unsubscribed,

    /// <summary>The address's hash is on the suppression list.</summary>
    Suppressed,
}

/// <summary>What the list is asked for. <see cref="After"/> pages forward (older readers), <see cref="Before"/> back.</summary>
public sealed record ReaderQuery(string? Text = null, string? Edition = null, ReaderState? State = null, int? After = null, int? Before = null);

/// <summary>One reader's state in one edition, as the sender sees it: pending, confirmed or left.</summary>
public sealed record EditionState(string Edition, string State);

public sealed record ReaderRow(int Id, string Email, string? Name, bool Suppressed, IReadOnlyList<EditionState> Editions);

public sealed record ReaderPage(IReadOnlyList<ReaderRow> Rows, int Total, int? NextAfter, int? PreviousBefore);

/// <summary>
/// The workspace's readers list: newest first, a page at a time by id (keyset), so a page costs the
/// same wherever it is. Search is a substring of the normalised address or of the name, read as
/// plain text (no wildcards); only the page's columns are read, never whole entities.
/// </summary>
public sealed class ReaderSearch(NewsletterDbContext db)
{
    public const int PageSize = 50;

    public async Task<ReaderPage> FindAsync(ReaderQuery query, CancellationToken cancellationToken = default)
    {
        var matching = Filter(query);
        var total = await matching.CountAsync(cancellationToken);
        var backwards = query.Before is not null && query.After is null;
        var paged = backwards
            ? matching.Where(s => s.Id > query.Before!.Value).OrderBy(s => s.Id)
            : (query.After is { } after ? matching.Where(s => s.Id < after) : matching).OrderByDescending(s => s.Id);
        var rows = await paged.Take(PageSize + 1)
            .Select(s => new
            {
                s.Id,
                s.Email,
                s.Name,
                s.Status,
                Suppressed = db.Suppressions.Any(p => p.EmailHash == s.EmailHash),
                Subscriptions = s.Subscriptions.Select(x => new { x.Edition, x.Status }).ToList(),
            })
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
        var more = rows.Count > PageSize;
        var page = rows.Take(PageSize).ToList();
        if (backwards)
        {
            page.Reverse();
        }
        var result = page.Select(r => new ReaderRow(r.Id, r.Email, r.Name, r.Suppressed,
            [.. r.Subscriptions.OrderBy(x => x.Edition, StringComparer.Ordinal)
                .Select(x => new EditionState(x.Edition, StateWord(r.Status, x.Status)))])).ToList();
        // Forward from the first page or a "next" page, there are older rows when one more came back;
        // going back, the page we came from is always there, and newer rows when one more came back.
        int? next = result.Count == 0 ? null : (backwards || more) ? result[^1].Id : null;
        int? previous = result.Count == 0 ? null : (backwards ? more : query.After is not null) ? result[0].Id : null;
        return new ReaderPage(result, total, next, previous);
    }

    /// <summary>"pending", "confirmed" or "left": the command line's words for a subscription.</summary>
    public static string StateWord(SubscriberStatus reader, SubscriptionStatus subscription) => subscription switch
    {
        SubscriptionStatus.Unsubscribed => "left",
        SubscriptionStatus.Active when reader == SubscriberStatus.Confirmed => "confirmed",
        _ => "pending",
    };

    private IQueryable<Subscriber> Filter(ReaderQuery query)
    {
        var readers = db.Subscribers.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim();
            var email = Contains(text.ToLowerInvariant());
            var name = Contains(text);
            // LIKE is case-insensitive for ASCII on SQLite and under SQL Server's usual collations.
            readers = readers.Where(s => EF.Functions.Like(s.NormalizedEmail, email, Escape)
                || (s.Name != null && EF.Functions.Like(s.Name, name, Escape)));
        }
        var edition = string.IsNullOrWhiteSpace(query.Edition) ? null : query.Edition;
        readers = (query.State, edition) switch
        {
            (null, null) => readers,
            (null, _) => readers.Where(s => s.Subscriptions.Any(x => x.Edition == edition)),
            (ReaderState.Confirmed, _) => readers.Where(s => s.Status == SubscriberStatus.Confirmed
                && s.Subscriptions.Any(x => (edition == null || x.Edition == edition) && x.Status == SubscriptionStatus.Active)),
            (ReaderState.Pending, _) => readers.Where(s => s.Subscriptions.Any(x => (edition == null || x.Edition == edition)
                && (x.Status == SubscriptionStatus.Pending || (x.Status == SubscriptionStatus.Active && s.Status == SubscriberStatus.Pending)))),
            (ReaderState.Unsubscribed, null) => readers.Where(s => !s.Subscriptions.Any(x => x.Status != SubscriptionStatus.Unsubscribed)),
            (ReaderState.Unsubscribed, _) => readers.Where(s => s.Subscriptions.Any(x => x.Edition == edition && x.Status == SubscriptionStatus.Unsubscribed)),
            (ReaderState.Suppressed, _) => readers.Where(s => db.Suppressions.Any(p => p.EmailHash == s.EmailHash)
                && (edition == null || s.Subscriptions.Any(x => x.Edition == edition))),
            _ => readers,
        };
        return readers;
    }

    private const string Escape = "\\";

    private static string Contains(string text) =>
        "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
