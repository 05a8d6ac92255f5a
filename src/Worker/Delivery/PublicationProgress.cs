using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>Counts of a publication's deliveries by state, with the current rate (messages with an
/// outcome per second) and the time left at that rate.</summary>
public sealed record PublicationProgress(
    int Total, int Sent, int Failed, int Skipped, int Pending, int Retrying, int Unsent, double Rate)
{
    /// <summary>Deliveries with an outcome: sent, failed, skipped, or not sent because the publication stopped.</summary>
    public int Done => Sent + Failed + Skipped + Unsent;

    public int Outstanding => Total - Done;

    public double Percent => Total == 0 ? 100 : 100.0 * Done / Total;

    public TimeSpan? Eta => Rate > 0 && Outstanding > 0 ? TimeSpan.FromSeconds(Outstanding / Rate) : null;


    /// <summary>On a run's final progress: the messages this run (this process) had accepted.</summary>
    public int SentByThisRun { get; init; }

    public PublicationProgress WithRate(double rate) => this with { Rate = rate };

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var text = string.Create(c,
            $"{Done:N0}/{Total:N0} ({Percent:0.0}%): sent {Sent:N0}, failed {Failed:N0}, skipped {Skipped:N0}, pending {Pending:N0}, retrying {Retrying:N0}");
        if (Unsent > 0)
        {
            text += string.Create(c, $", not sent {Unsent:N0}");
        }
        if (Rate > 0)
        {
            text += string.Create(c, $", {Rate:0.0} msg/s");
        }
        if (Eta is { } eta)
        {
            text += $", ETA {FormatEta(eta)}";
        }
        return text;
    }

    public static string FormatEta(TimeSpan eta) => eta.TotalHours >= 1
        ? $"{(int)eta.TotalHours}h{eta.Minutes:00}m"
        : eta.TotalMinutes >= 1 ? $"{eta.Minutes}m{eta.Seconds:00}s" : $"{Math.Max(1, (int)Math.Ceiling(eta.TotalSeconds))}s";

    /// <summary>The publication's counts (the rate is left to the caller).</summary>
    public static async Task<PublicationProgress> ReadAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        // A compacted publication's rows are gone, or going (DeliveryCompaction): its frozen counts stand.
        var compacted = await db.Publications.AsNoTracking()
            .FirstOrDefaultAsync(p => p.Id == publicationId && p.CompactedAt != null, cancellationToken);
        return compacted is null ? await CountRowsAsync(db, publicationId, cancellationToken) : FromCompacted(compacted);
    }

    /// <summary>The counts frozen on a compacted publication (<see cref="Publication.CompactedAt"/> set).</summary>
    public static PublicationProgress FromCompacted(Publication p) => new(
        Total: p.CompactedSent + p.CompactedFailed + p.CompactedSkipped + p.CompactedUnsent,
        Sent: p.CompactedSent, Failed: p.CompactedFailed, Skipped: p.CompactedSkipped,
        Pending: 0, Retrying: 0, Unsent: p.CompactedUnsent, Rate: 0);

    /// <summary>The counts from the publication's delivery rows.</summary>
    /// <remarks>Two narrow queries rather than one grouped by every flag, which read each of the
    /// publication's rows (docs/benchmarks.md, Workspace pages): the counts by state come from the
    /// (PublicationId, Status, NextAttemptAt) index alone; only rows still waiting are read for their
    /// retry state.</remarks>
    internal static async Task<PublicationProgress> CountRowsAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        var deliveries = db.Deliveries.Where(d => d.PublicationId == publicationId);
        var byStatus = await deliveries.GroupBy(d => d.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToDictionaryAsync(c => c.Status, c => c.Count, cancellationToken);
        // A claimed row with CompletedAt set is a message the server accepted whose batch is not
        // filed yet (OutcomeWriter.AcceptAsync): sent, not pending.
        var waiting = await deliveries.Where(d => d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Claimed)
            .GroupBy(d => new
            {
                Accepted = d.Status == DeliveryStatus.Claimed && d.CompletedAt != null,
                Retrying = d.Attempts > 0 || d.FirstAttemptAt != null,
            })
            .Select(g => new { g.Key.Accepted, g.Key.Retrying, Count = g.Count() })
            .ToListAsync(cancellationToken);
        int Count(DeliveryStatus s) => byStatus.GetValueOrDefault(s);
        var accepted = waiting.Where(w => w.Accepted).Sum(w => w.Count);
        var retrying = waiting.Where(w => w.Retrying && !w.Accepted).Sum(w => w.Count);
        return new PublicationProgress(
            Total: byStatus.Values.Sum(),
            Sent: Count(DeliveryStatus.Sent) + accepted,
            Failed: Count(DeliveryStatus.Failed),
            Skipped: Count(DeliveryStatus.Skipped),
            Pending: Count(DeliveryStatus.Pending) + Count(DeliveryStatus.Claimed) - accepted - retrying,
            Retrying: retrying,
            Unsent: Count(DeliveryStatus.Cancelled) + Count(DeliveryStatus.Expired),
            Rate: 0);
    }

    /// <summary>Outcomes per second over the last <paramref name="window"/>, whichever process made them.</summary>
    public static async Task<double> RecentRateAsync(
        NewsletterDbContext db, int publicationId, DateTime now, TimeSpan window, CancellationToken cancellationToken)
    {
        var since = now - window;
        var count = await db.Deliveries.CountAsync(d => d.PublicationId == publicationId
            && (d.Status == DeliveryStatus.Sent || d.Status == DeliveryStatus.Failed || d.Status == DeliveryStatus.Skipped
                || d.Status == DeliveryStatus.Claimed) // claimed with CompletedAt: accepted, not yet filed
            && d.CompletedAt >= since, cancellationToken);
        return count / window.TotalSeconds;
    }
}
