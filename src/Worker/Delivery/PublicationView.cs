using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>A publication as the workspace and <c>publications show</c> present it: counts, rate and time left,
/// latest failures, and the issue's results.</summary>
public sealed record PublicationView(
    Publication Publication, string? Subject, PublicationProgress Progress, PublicationResults Results, string? Eta,
    IReadOnlyList<(string Email, string? Result)> Failures)
{
    /// <summary>The publication of an issue (there is at most one), for the issue's results.</summary>
    public static Task<int?> OfIssueAsync(NewsletterDbContext db, int issueId, CancellationToken cancellationToken) =>
        db.Publications.AsNoTracking().Where(p => p.IssueId == issueId).OrderByDescending(p => p.Id).Select(p => (int?)p.Id).FirstOrDefaultAsync(cancellationToken);

    public static async Task<PublicationView?> ReadAsync(NewsletterDbContext db, int id, DateTime now, CancellationToken cancellationToken)
    {
        if (await db.Publications.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken) is not { } p)
        {
            return null;
        }
        var subject = p.IssueId is null ? null
            : await db.Issues.AsNoTracking().Where(i => i.Id == p.IssueId).Select(i => i.Subject).FirstOrDefaultAsync(cancellationToken);
        var progress = await PublicationProgress.ReadAsync(db, id, cancellationToken);
        if (p.Status == PublicationStatus.Sending)
        {
            progress = progress.WithRate(await PublicationProgress.RecentRateAsync(db, id, now, TimeSpan.FromMinutes(1), cancellationToken));
        }
        var failures = (await db.Deliveries.AsNoTracking()
                .Where(d => d.PublicationId == id && d.Status == DeliveryStatus.Failed)
                .OrderByDescending(d => d.CompletedAt).Take(5)
                .Join(db.Subscribers, d => d.SubscriberId, s => s.Id, (d, s) => new { s.Email, d.LastResult })
                .ToListAsync(cancellationToken))
            .Select(f => (f.Email, f.LastResult)).ToList();
        var results = await PublicationResults.ReadAsync(db, id, progress, cancellationToken);
        return new PublicationView(p, subject, progress, results, progress.Eta is { } eta ? PublicationProgress.FormatEta(eta) : null, failures);
    }

    /// <summary>What the workspace's publication page refreshes, every few seconds while the send runs.</summary>
    public object Live() => new
    {
        status = PublicationControl.Name(Publication.Status),
        total = Progress.Total,
        sent = Progress.Sent,
        pending = Progress.Pending,
        retrying = Progress.Retrying,
        failed = Progress.Failed,
        skipped = Progress.Skipped,
        percent = Math.Round(Progress.Percent, 1),
        rate = Math.Round(Progress.Rate, 1),
        eta = Eta,
    };
}
