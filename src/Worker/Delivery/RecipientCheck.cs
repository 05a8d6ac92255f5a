using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

internal sealed record RecipientRow(int SubscriberId, string LinkKey, string Email, string EmailHash, string? Name, string? SkipReason, string? CrisisRegion = null);

/// <summary>The send-time check: who in a claimed batch may still be mailed.</summary>
internal static class RecipientCheck
{
    /// <summary>
    /// The batch's recipients, re-checked at send time: a person who unsubscribed from the edition
    /// or was suppressed after the snapshot is skipped, and so is one who paused their emails since
    /// (a pause is a wish not to hear from us until it ends). One query per batch, not per recipient.
    /// </summary>
    public static async Task<Dictionary<int, RecipientRow>> LoadAsync(
        NewsletterDbContext db, string edition, List<DeliveryRecord> batch, DateTime now, CancellationToken cancellationToken)
    {
        var ids = batch.Select(d => d.SubscriberId).ToList();
        var rows = await db.Subscribers.AsNoTracking()
            .Where(s => EF.Parameter(ids).Contains(s.Id))
            .Select(s => new
            {
                s.Id,
                s.LinkKey,
                s.Email,
                s.EmailHash,
                s.Name,
                s.Status,
                s.CrisisRegion,
                Paused = s.PausedUntil > now,
                Active = s.Subscriptions.Any(x => x.Edition == edition && x.Status == SubscriptionStatus.Active),
                Suppressed = db.Suppressions.Any(x => x.EmailHash == s.EmailHash),
            })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.Id, r => new RecipientRow(r.Id, r.LinkKey, r.Email, r.EmailHash, r.Name,
            r.Suppressed ? "not sent: the address is on the suppression list"
            : r.Status != SubscriberStatus.Confirmed ? "not sent: the subscriber is not confirmed"
            : !r.Active ? "not sent: unsubscribed from this edition after the issue was published"
            : r.Paused ? "not sent: the reader paused their emails after the issue was published"
            : null, r.CrisisRegion));
    }
}
