using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>A subscriber's delivery records, read for a personal-data export and scrubbed on erasure (with the bounces
/// recorded against them and their totals from compacted publications).</summary>
internal sealed class DeliveryHistory(NewsletterDbContext db) : IDeliveryHistory
{
    public async Task<IReadOnlyList<DeliveryHistoryEntry>> ForSubscriberAsync(int subscriberId, CancellationToken cancellationToken)
    {
        var rows = await (
            from d in db.Deliveries.AsNoTracking()
            join p in db.Publications.AsNoTracking() on d.PublicationId equals p.Id
            join i in db.Issues.AsNoTracking() on p.IssueId equals i.Id into issues
            from i in issues.DefaultIfEmpty()
            where d.SubscriberId == subscriberId
            orderby d.Id
            select new { d.PublicationId, p.Edition, Subject = i == null ? null : i.Subject, p.SlotUtc, d.Status, d.Attempts, d.CompletedAt, d.LastResult })
            .ToListAsync(cancellationToken);
        // A claimed row with CompletedAt set was accepted by the server; only its batch is not filed yet.
        return [.. rows.Select(r => new DeliveryHistoryEntry(
            r.PublicationId, r.Edition, r.Subject, r.SlotUtc,
            (r.Status == DeliveryStatus.Claimed && r.CompletedAt is not null ? DeliveryStatus.Sent : r.Status).ToString().ToLowerInvariant(),
            r.Attempts, r.CompletedAt, r.LastResult))];
    }

    public async Task<IReadOnlyList<EarlierDeliveriesEntry>> EarlierForSubscriberAsync(int subscriberId, CancellationToken cancellationToken) =>
        await db.DeliveryTotals.AsNoTracking().Where(t => t.SubscriberId == subscriberId).OrderBy(t => t.Edition)
            .Select(t => new EarlierDeliveriesEntry(t.Edition, t.Delivered, t.Failed, t.FirstSlotUtc, t.LastSlotUtc))
            .ToListAsync(cancellationToken);

    public async Task ForgetAsync(int? subscriberId, string normalizedAddress, CancellationToken cancellationToken)
    {
        if (subscriberId is { } id)
        {
            await db.Deliveries.Where(d => d.SubscriberId == id && d.LastResult != null)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LastResult, (string?)null), cancellationToken);
            // Bounces keep the remote server's words, which may name the address.
            await db.Bounces.Where(b => b.SubscriberId == id).ExecuteDeleteAsync(cancellationToken);
            await db.DeliveryTotals.Where(t => t.SubscriberId == id).ExecuteDeleteAsync(cancellationToken);
        }
        if (normalizedAddress.Length == 0)
        {
            return;
        }
        // A pause's note quotes the last error, and replies stored before they were masked may name the address.
        var notes = await db.Publications.Where(p => p.Note != null && p.Note.ToLower().Contains(normalizedAddress))
            .ToListAsync(cancellationToken);
        foreach (var publication in notes)
        {
            publication.Note = AddressMask.Erase(publication.Note, normalizedAddress);
        }
        await db.SaveChangesAsync(cancellationToken);
    }
}
