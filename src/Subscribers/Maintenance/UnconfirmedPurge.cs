using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Maintenance;

public sealed record PurgeResult(int SignupsDeleted, int ReturnsDropped)
{
    public override string ToString() =>
        $"{SignupsDeleted} unconfirmed sign-up(s) deleted, {ReturnsDropped} unconfirmed edition request(s) dropped";
}

/// <summary>
/// Forgets sign-ups nobody confirmed: pending subscribers whose last request is older than
/// <c>Subscribers:PurgeUnconfirmedAfterDays</c> are deleted with their consent records, and a
/// confirmed reader's unconfirmed request for an edition is dropped (an edition they had left goes
/// back to "unsubscribed"); their sign-up emails go with them, and so does any sign-up email
/// finished with (sent, failed, replaced) before the same cutoff. Idempotent and safe to run on several instances at once.
/// </summary>
public sealed class UnconfirmedPurge(DbContext db, IOptions<SubscriberOptions> options, TimeProvider time)
{
    public async Task<PurgeResult> PurgeAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow().UtcDateTime.AddDays(-options.Value.PurgeUnconfirmedAfterDays);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var stale = db.Set<Subscriber>().Where(s => s.Status == SubscriberStatus.Pending && s.CreatedAt < cutoff
            && !s.ConsentRecords.Any(c => c.ConsentedAt >= cutoff));
        var ids = await stale.Select(s => s.Id).ToListAsync(cancellationToken);
        var deleted = 0;
        foreach (var chunk in ids.Chunk(500))
        {
            // Children first: the purge must not depend on the database enforcing cascades.
            await db.Set<Subscription>().Where(s => chunk.Contains(s.SubscriberId)).ExecuteDeleteAsync(cancellationToken);
            await db.Set<OutgoingEmail>().Where(e => chunk.Contains(e.SubscriberId)).ExecuteDeleteAsync(cancellationToken);
            await db.Set<ConsentRecord>().Where(c => chunk.Contains(c.SubscriberId)).ExecuteDeleteAsync(cancellationToken);
            deleted += await db.Set<Subscriber>().Where(s => chunk.Contains(s.Id) && s.Status == SubscriberStatus.Pending)
                .ExecuteDeleteAsync(cancellationToken);
        }

        var returning = db.Set<Subscription>().Where(s => s.Status == SubscriptionStatus.Pending && s.SubscribedAt < cutoff
            && s.Subscriber!.Status == SubscriberStatus.Confirmed);
        var dropped = await returning.Where(s => s.UnsubscribedAt != null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed), cancellationToken);
        dropped += await returning.Where(s => s.UnsubscribedAt == null).ExecuteDeleteAsync(cancellationToken);
        // The unconfirmed requests' evidence (IP address, user agent) has no purpose any more.
        await db.Set<ConsentRecord>().Where(c => c.ConfirmedAt == null && c.ConsentedAt < cutoff && !c.Source.StartsWith("import"))
            .ExecuteDeleteAsync(cancellationToken);
        // Sign-up emails long done with (sent, failed or replaced) are of no further use either.
        await db.Set<OutgoingEmail>().Where(e => e.CreatedAt < cutoff
                && (e.Status == OutgoingEmailStatus.Sent || e.Status == OutgoingEmailStatus.Failed || e.Status == OutgoingEmailStatus.Cancelled))
            .ExecuteDeleteAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return new PurgeResult(deleted, dropped);
    }
}
