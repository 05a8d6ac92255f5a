using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// What an issue's email came to, without any tracking: what the mail servers answered, and how many
/// readers left through the unsubscribe link in it. No pixels, no rewritten links: an unsubscribe
/// counts only because the link names its publication (<c>?p=</c>, see <see cref="RecordUnsubscribeAsync"/>).
/// </summary>
/// <param name="Bounced">Null until bounces are read (a later part); then the delivered messages that bounced.</param>
public sealed record PublicationResults(int Delivered, int Failed, int Skipped, int? Bounced, int Unsubscribed)
{
    /// <summary>Readers who left through this links, over the messages delivered; null before any was.</summary>
    public double? UnsubscribeRate => Delivered == 0 ? null : (double)Unsubscribed / Delivered;

    /// <summary>From a publication's counts, and its unsubscribes counted apart: a send's own progress
    /// checks never need them, so they do not walk the publication's rows for them.</summary>
    public static async Task<PublicationResults> ReadAsync(
        NewsletterDbContext db, int publicationId, PublicationProgress progress, CancellationToken cancellationToken)
    {
        var unsubscribed = await db.Deliveries.CountAsync(d => d.PublicationId == publicationId && d.UnsubscribedAt != null, cancellationToken);
        return new(progress.Sent, progress.Failed, progress.Skipped, Bounced: null, unsubscribed);
    }

    public string DescribeBounced() =>
        Bounced is { } bounced ? bounced.ToString("N0", CultureInfo.InvariantCulture) : "not known yet (bounces are not read)";

    public string DescribeUnsubscribed() => UnsubscribeRate is { } rate
        ? string.Create(CultureInfo.InvariantCulture, $"{Unsubscribed:N0} ({rate:0.0#%} of delivered)")
        : Unsubscribed.ToString("N0", CultureInfo.InvariantCulture);

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
