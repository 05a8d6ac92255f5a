using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Which rows a claim takes, per database. SQLite has one writer at a time, so a plain read is enough;
/// on PostgreSQL and SQL Server the read locks the rows it returns and skips rows another instance has
/// locked, inside the claim's transaction, so instances sharing a send take different rows instead of
/// colliding on the same ones.
/// </summary>
internal static class ClaimSql
{
    private const int Pending = (int)DeliveryStatus.Pending;
    private const int Claimed = (int)DeliveryStatus.Claimed;

    /// <summary>Up to <paramref name="count"/> pending rows due by <paramref name="now"/>, oldest first.</summary>
    public static Task<List<long>> DueAsync(NewsletterDbContext db, int publicationId, DateTime now, int count, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return db.Database.SqlQuery<long>($"""
                SELECT "Id" FROM "Deliveries"
                WHERE "PublicationId" = {publicationId} AND "Status" = {Pending} AND "NextAttemptAt" <= {now}
                ORDER BY "NextAttemptAt", "Id" LIMIT {count}
                FOR UPDATE SKIP LOCKED
                """).ToListAsync(cancellationToken);
        }
        if (db.Database.IsSqlServer())
        {
            return db.Database.SqlQuery<long>($"""
                SELECT TOP ({count}) [Id] FROM [Deliveries] WITH (UPDLOCK, READPAST, ROWLOCK)
                WHERE [PublicationId] = {publicationId} AND [Status] = {Pending} AND [NextAttemptAt] <= {now}
                ORDER BY [NextAttemptAt], [Id]
                """).ToListAsync(cancellationToken);
        }
        // Two index range reads (publication, status, next attempt), never a scan of the list.
        return db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id).Select(d => d.Id).Take(count)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="count"/> claims whose lease ran out before the server had the message.</summary>
    public static Task<List<long>> ExpiredAsync(NewsletterDbContext db, int publicationId, DateTime now, int count, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return db.Database.SqlQuery<long>($"""
                SELECT "Id" FROM "Deliveries"
                WHERE "PublicationId" = {publicationId} AND "Status" = {Claimed} AND "LeaseExpiresAt" < {now} AND "CompletedAt" IS NULL
                ORDER BY "Id" LIMIT {count}
                FOR UPDATE SKIP LOCKED
                """).ToListAsync(cancellationToken);
        }
        if (db.Database.IsSqlServer())
        {
            return db.Database.SqlQuery<long>($"""
                SELECT TOP ({count}) [Id] FROM [Deliveries] WITH (UPDLOCK, READPAST, ROWLOCK)
                WHERE [PublicationId] = {publicationId} AND [Status] = {Claimed} AND [LeaseExpiresAt] < {now} AND [CompletedAt] IS NULL
                ORDER BY [Id]
                """).ToListAsync(cancellationToken);
        }
        return db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now
                && d.CompletedAt == null)
            .OrderBy(d => d.Id).Select(d => d.Id).Take(count)
            .ToListAsync(cancellationToken);
    }
}
