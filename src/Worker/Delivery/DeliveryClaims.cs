using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// A run's claims on its deliveries: taking due rows with a lease (so no two senders, in this process
/// or another, hold the same row), renewing the lease, and handing unsent rows back to the pool.
/// </summary>
internal sealed class DeliveryClaims(
    string instanceId, IServiceScopeFactory scopes, DeliveryOptions options, DeliveryWrites writes, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Claims up to <paramref name="count"/> due deliveries. Candidates are read first, then claimed
    /// by id with the due condition repeated in the UPDATE, so on every provider (SQL Server
    /// re-evaluates the WHERE on the row it locks) a row another instance claimed in between is not
    /// taken twice; the rows this call owns are those carrying its fresh lease token.
    /// </summary>
    public async Task<List<DeliveryRecord>> ClaimAsync(NewsletterDbContext db, SendRun run, int count, CancellationToken cancellationToken)
    {
        var publicationId = run.Publication.Id;
        await run.ClaimLock.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var now = time.GetUtcNow().UtcDateTime;
                // On a server database the candidates are locked as they are read (ClaimSql) and the
                // rows other instances are claiming are passed over, so several instances claim apart.
                await using var transaction = db.Database.IsSqlite() ? null : await db.Database.BeginTransactionAsync(cancellationToken);
                var candidates = await ClaimSql.DueAsync(db, publicationId, now, count, cancellationToken);
                if (candidates.Count < count)
                {
                    // An expired claim the server had already accepted is filed as sent, not taken.
                    await OutcomeWriter.SettleAbandonedAsync(db, publicationId, now, cancellationToken);
                    candidates.AddRange(await ClaimSql.ExpiredAsync(db, publicationId, now, count - candidates.Count, cancellationToken));
                }
                if (candidates.Count == 0)
                {
                    return [];
                }

                // From here the claim runs to the end whatever the token: once the UPDATE has run, the
                // rows are this sender's until it releases them, and a stop that fell between the
                // UPDATE and reading them back would leave them claimed until the lease ran out.
                cancellationToken.ThrowIfCancellationRequested();
                var lease = $"{instanceId}:{Guid.NewGuid().ToString("N")[..12]}";
                var expires = now + options.LeaseDuration;
                // By id alone: with the publication in the WHERE, SQLite's planner walks the whole
                // publication's index on each claim. EF.Parameter sends the ids as one JSON array, so the
                // statement's text stays the same whatever the batch (measured in docs/benchmarks.md).
                var claimed = await db.Deliveries
                    .Where(d => EF.Parameter(candidates).Contains(d.Id)
                        && ((d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
                            || (d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now && d.CompletedAt == null)))
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(d => d.Status, DeliveryStatus.Claimed)
                        .SetProperty(d => d.LeaseOwner, lease)
                        .SetProperty(d => d.LeaseExpiresAt, expires), CancellationToken.None);
                if (transaction is not null)
                {
                    await transaction.CommitAsync(CancellationToken.None);
                }
                if (claimed > 0)
                {
                    return await db.Deliveries.AsNoTracking()
                        .Where(d => EF.Parameter(candidates).Contains(d.Id) && d.LeaseOwner == lease)
                        .OrderBy(d => d.Id).ToListAsync(CancellationToken.None);
                }
                // Another instance claimed these first; look again.
            }
            return [];
        }
        finally
        {
            run.ClaimLock.Release();
        }
    }

    /// <summary>Extends the lease on the batch's rows not yet attempted; returns the new expiry and the ids still held.</summary>
    public async Task<(DateTime Expires, HashSet<long> Kept)> RenewAsync(
        NewsletterDbContext db, int publicationId, string lease, List<DeliveryRecord> batch, int from, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow().UtcDateTime + options.LeaseDuration;
        var ids = batch.Skip(from).Select(d => d.Id).ToList();
        var renewed = await db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Claimed && d.LeaseOwner == lease && EF.Parameter(ids).Contains(d.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseExpiresAt, expires), cancellationToken);
        if (renewed == ids.Count)
        {
            return (expires, [.. ids]);
        }
        var kept = await db.Deliveries.Where(d => EF.Parameter(ids).Contains(d.Id) && d.LeaseOwner == lease && d.Status == DeliveryStatus.Claimed)
            .Select(d => d.Id).ToListAsync(cancellationToken);
        logger.LogWarning("Publication {PublicationId}: {Lost} claim(s) expired before they were sent and were taken by another sender",
            publicationId, ids.Count - kept.Count);
        return (expires, [.. kept]);
    }

    /// <summary>How long until something is due; null when nothing is outstanding.</summary>
    public async Task<TimeSpan?> NextDueInAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        var nextPending = await db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Pending)
            .MinAsync(d => (DateTime?)d.NextAttemptAt, cancellationToken);
        var nextLease = await db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Claimed)
            .MinAsync(d => d.LeaseExpiresAt, cancellationToken);
        if (nextPending is null && nextLease is null)
        {
            return null;
        }
        var next = new[] { nextPending, nextLease }.Where(t => t is not null).Min()!.Value;
        var wait = next - time.GetUtcNow().UtcDateTime;
        // Poll at least every couple of seconds: claims held by another live instance finish early.
        return wait < TimeSpan.FromMilliseconds(20) ? TimeSpan.FromMilliseconds(20)
            : wait > TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : wait;
    }

    /// <summary>Hands claims back to the pool; for a publication that stopped meanwhile they are settled at once.
    /// If the database refuses, they return when their lease runs out.</summary>
    public async Task ReleaseAsync(NewsletterDbContext db, int publicationId, string lease, IEnumerable<DeliveryRecord> deliveries, DateTime nextAttemptAt)
    {
        try
        {
            await TryReleaseAsync(db, publicationId, lease, deliveries, nextAttemptAt);
        }
        catch (Exception ex) when (DeliveryWrites.IsWriteFailure(ex))
        {
            writes.Failed(publicationId, ex);
        }
    }

    private async Task TryReleaseAsync(NewsletterDbContext db, int publicationId, string lease, IEnumerable<DeliveryRecord> deliveries, DateTime nextAttemptAt)
    {
        var ids = deliveries.Select(d => d.Id).ToList();
        if (ids.Count == 0)
        {
            return;
        }
        await db.Deliveries.Where(d => EF.Parameter(ids).Contains(d.Id) && d.LeaseOwner == lease && d.Status == DeliveryStatus.Claimed)
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, DeliveryStatus.Pending)
                .SetProperty(d => d.NextAttemptAt, nextAttemptAt)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null), CancellationToken.None);
        // Released after a cancel or stale stop? Then the control's settle may have run before
        // these rows were back; settle again (it only acts on a stopped publication).
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PublicationControl>().SettleAsync(publicationId, CancellationToken.None);
    }

    public async Task SettleAcceptedAsync(NewsletterDbContext db, int publicationId, string lease, IEnumerable<DeliveryRecord> attempted)
    {
        try
        {
            await OutcomeWriter.SettleAcceptedAsync(db, lease, attempted.Select(d => d.Id).ToList());
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // Not lost: the acceptances are recorded; the rows are filed when their lease runs out.
            // Said once per outage (with the other writes the database refuses), not once per batch.
            writes.Failed(publicationId, ex);
        }
    }
}

/// <summary>Names a process's claims (deliveries, sign-up emails): each lease token starts with it, so
/// whose a claim is can be read from the row.</summary>
internal static class InstanceId
{
    /// <summary>"machine:pid:random", the machine name cut to 40 characters.</summary>
    public static string New()
    {
        var machine = Environment.MachineName;
        return $"{(machine.Length > 40 ? machine[..40] : machine)}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }
}
