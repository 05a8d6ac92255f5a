using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// What an issue's email came to, without any tracking: what the mail servers answered, and how many
/// readers left through the unsubscribe link in it. No pixels, no rewritten links: an unsubscribe
/// counts only because the link names its publication (<c>?p=</c>, see <see cref="RecordUnsubscribeAsync"/>).
/// </summary>
/// <param name="Bounced">Readers whose copy came back undelivered (a bounce read from the mailbox or a relay).</param>
/// <param name="HardBounces">Of those, refused for good (the address suppressed).</param>
/// <param name="Complaints">Readers who reported the issue as spam.</param>
public sealed record PublicationResults(int Delivered, int Failed, int Skipped, int Bounced, int HardBounces, int Complaints, int Unsubscribed)
{

    /// <summary>From a publication's counts, and its unsubscribes counted apart: a send's own progress
    /// checks never need them, so they do not walk the publication's rows for them.</summary>
    public static async Task<PublicationResults> ReadAsync(
        NewsletterDbContext db, int publicationId, PublicationProgress progress, CancellationToken cancellationToken)
    {
        var unsubscribed = await db.Publications.Where(p => p.Id == publicationId && p.CompactedAt != null)
                .Select(p => (int?)p.CompactedUnsubscribed).FirstOrDefaultAsync(cancellationToken)
            ?? await db.Deliveries.CountAsync(d => d.PublicationId == publicationId && d.UnsubscribedAt != null, cancellationToken);
        var bounces = db.Bounces.Where(b => b.PublicationId == publicationId && b.SubscriberId != null);
        var bounced = await bounces.Where(b => b.Kind == BounceKind.Hard || b.Kind == BounceKind.Soft).Select(b => b.SubscriberId).Distinct().CountAsync(cancellationToken);
        var hard = await bounces.Where(b => b.Kind == BounceKind.Hard).Select(b => b.SubscriberId).Distinct().CountAsync(cancellationToken);
        var complaints = await bounces.Where(b => b.Kind == BounceKind.Complaint).Select(b => b.SubscriberId).Distinct().CountAsync(cancellationToken);
        return new(progress.Sent, progress.Failed, progress.Skipped, bounced, hard, complaints, unsubscribed);
    }

    public string DescribeBounced() => Bounced == 0
        ? "none reported"
        : string.Create(CultureInfo.InvariantCulture, $"{Bounced:N0}{Rate(Bounced)}: {HardBounces:N0} refused for good, {Bounced - HardBounces:N0} temporarily");

    /// <summary>Mailbox providers want complaints under 0.3 % of what a sender delivers.</summary>
    public string DescribeComplaints() => Complaints == 0
        ? "none reported"
        : string.Create(CultureInfo.InvariantCulture, $"{Complaints:N0}{Rate(Complaints)}");

    private string Rate(int count) => Delivered == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({(double)count / Delivered:0.0#%} of delivered)");

    public string DescribeUnsubscribed() => string.Create(CultureInfo.InvariantCulture, $"{Unsubscribed:N0}{Rate(Unsubscribed)}");

    /// <summary>
    /// Marks the reader's delivery of that publication as the one they left through, at most once.
    /// Call it only when the unsubscribe changed something, so a repeat or a reader already gone counts nothing.
    /// </summary>
    /// <remarks>The publication id comes unsigned from the link; the subscriber is the signed token's, and
    /// only a message this reader was delivered, of the link's edition, can be marked.</remarks>
    public static async Task<bool> RecordUnsubscribeAsync(
        NewsletterDbContext db, int publicationId, int subscriberId, string edition, DateTime now, CancellationToken cancellationToken)
    {
        // A claimed row with CompletedAt set was accepted by the server; only its batch is not filed yet.
        var marked = await db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.SubscriberId == subscriberId && d.UnsubscribedAt == null
                && (d.Status == DeliveryStatus.Sent || (d.Status == DeliveryStatus.Claimed && d.CompletedAt != null))
                && db.Publications.Any(p => p.Id == publicationId && p.Edition == edition))
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.UnsubscribedAt, now), cancellationToken);
        return marked > 0;
    }
}
