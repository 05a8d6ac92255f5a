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

    /// <summary>Confirmed, but taking a break: left out of every send until the pause ends.</summary>
    Paused,
}

/// <summary>What the list is asked for. <see cref="After"/> pages forward (older readers), <see cref="Before"/> back.</summary>
public sealed record ReaderQuery(string? Text = null, string? Edition = null, ReaderState? State = null, int? After = null, int? Before = null);

/// <summary>One reader's state in one edition, as the sender sees it: pending, confirmed or left.</summary>
public sealed record EditionState(string Edition, string State);

public sealed record ReaderRow(int Id, string Email, string? Name, bool Suppressed, IReadOnlyList<EditionState> Editions, DateTime? PausedUntil = null);

/// <summary>A page of the list; <see cref="Paused"/> counts those of <see cref="Total"/> taking a break now.</summary>
public sealed record ReaderPage(IReadOnlyList<ReaderRow> Rows, int Total, int? NextAfter, int? PreviousBefore, int Paused = 0);

/// <summary>
/// The workspace's readers list: newest first, a page at a time by id (keyset), so a page costs the
/// same wherever it is. Search is a substring of the normalised address or of the name, read as
/// plain text (no wildcards); only the page's columns are read, never whole entities.
/// </summary>
public sealed class ReaderSearch(NewsletterDbContext db, TimeProvider? time = null)
{
    private DateTime Now => (time ?? TimeProvider.System).GetUtcNow().UtcDateTime;

    public const int PageSize = 50;

    public async Task<ReaderPage> FindAsync(ReaderQuery query, CancellationToken cancellationToken = default)
    {
        var backwards = query.Before is not null && query.After is null;
        var matching = Filter(query);
        // Counted in the database: the rows themselves never leave it, only the page's ids do.
        var total = await matching.CountAsync(cancellationToken);
        var paused = await PausedNow(matching).CountAsync(cancellationToken);
        var paged = backwards
            ? matching.Where(s => s.Id > query.Before!.Value).OrderBy(s => s.Id)
            : (query.After is { } after ? matching.Where(s => s.Id < after) : matching).OrderByDescending(s => s.Id);
        var ids = await paged.Take(PageSize + 1).Select(s => s.Id).ToListAsync(cancellationToken);
        var more = ids.Count > PageSize;
        ids = [.. ids.Take(PageSize)];
        var rows = await db.Subscribers.AsNoTracking()
            .Where(s => ids.Contains(s.Id))
            .Select(s => new
            {
                s.Id,
                s.Email,
                s.Name,
                s.Status,
                s.PausedUntil,
                Suppressed = db.Suppressions.Any(p => p.EmailHash == s.EmailHash),
                Subscriptions = s.Subscriptions.Select(x => new { x.Edition, x.Status }).ToList(),
            })
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
        var now = Now;
        var result = rows.OrderByDescending(r => r.Id).Select(r => new ReaderRow(r.Id, r.Email, r.Name, r.Suppressed,
            [.. r.Subscriptions.OrderBy(x => x.Edition, StringComparer.Ordinal)
                .Select(x => new EditionState(x.Edition, StateWord(r.Status, x.Status)))],
            r.PausedUntil > now ? r.PausedUntil : null)).ToList();
        // Forward from the first page or a "next" page, there are older rows when one more matched;
        // going back, the page we came from is always there, and newer rows when one more matched.
        int? next = result.Count == 0 ? null : (backwards || more) ? result[^1].Id : null;
        int? previous = result.Count == 0 ? null : (backwards ? more : query.After is not null) ? result[0].Id : null;
        return new ReaderPage(result, total, next, previous, paused);
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
            // LIKE is case-insensitive for ASCII on SQLite and under SQL Server's usual collations;
            // PostgreSQL's is not, and has ILIKE for it.
            readers = db.Database.IsNpgsql()
                ? readers.Where(s => EF.Functions.Like(s.NormalizedEmail, email, Escape)
                    || (s.Name != null && EF.Functions.ILike(s.Name, name, Escape)))
                : readers.Where(s => EF.Functions.Like(s.NormalizedEmail, email, Escape)
                    || (s.Name != null && EF.Functions.Like(s.Name, name, Escape)));
        }
        var edition = string.IsNullOrWhiteSpace(query.Edition) ? null : query.Edition;
        if (query.State is null && edition is null)
        {
            return readers;
        }
        // Each condition is an IN over a subquery the database evaluates once, not a lookup per reader.
        var choices = edition is null ? db.Subscriptions : db.Subscriptions.Where(x => x.Edition == edition);
        return query.State switch
        {
            null => readers.Where(s => choices.Select(x => x.SubscriberId).Contains(s.Id)),
            ReaderState.Confirmed => readers.Where(s => s.Status == SubscriberStatus.Confirmed
                && choices.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.SubscriberId).Contains(s.Id)),
            ReaderState.Pending => readers.Where(s =>
                choices.Where(x => x.Status == SubscriptionStatus.Pending).Select(x => x.SubscriberId).Contains(s.Id)
                || (s.Status == SubscriberStatus.Pending && choices.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.SubscriberId).Contains(s.Id))),
            ReaderState.Unsubscribed when edition is null => readers.Where(s =>
                !db.Subscriptions.Where(x => x.Status != SubscriptionStatus.Unsubscribed).Select(x => x.SubscriberId).Contains(s.Id)),
            ReaderState.Unsubscribed => readers.Where(s =>
                choices.Where(x => x.Status == SubscriptionStatus.Unsubscribed).Select(x => x.SubscriberId).Contains(s.Id)),
            ReaderState.Paused => PausedNow(readers).Where(s => s.Status == SubscriberStatus.Confirmed
                && choices.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.SubscriberId).Contains(s.Id)),
            _ => readers.Where(s => db.Suppressions.Select(p => p.EmailHash).Contains(s.EmailHash)
                && (edition == null || choices.Select(x => x.SubscriberId).Contains(s.Id))),
        };
    }

    private IQueryable<Subscriber> PausedNow(IQueryable<Subscriber> readers)
    {
        var now = Now;
        return readers.Where(s => s.PausedUntil != null && s.PausedUntil > now);
    }

    private const string Escape = "\\";

    private static string Contains(string text) =>
        "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
