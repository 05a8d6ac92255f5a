using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>What one compaction pass did.</summary>
public sealed record CompactionResult(int Publications, long RowsRemoved);

/// <summary>
/// Keeps the database from growing with history: a publication finished longer than
/// <c>Delivery:KeepDeliveryRowsFor</c> ago keeps its counts on its own row and each reader's share in
/// <see cref="DeliveryTotal"/>, and loses its delivery row per recipient.
/// </summary>
/// <remarks>
/// Crash-safe in two checkpoints. First the counts are frozen on the publication (one transaction);
/// from then on every reader of its progress uses them. Then the rows are folded into the readers'
/// totals and deleted in chunks, each chunk's fold and delete in one transaction, so a chunk is either
/// counted and gone or untouched, and a later pass carries on where a stopped one left off.
/// Safe on several instances at once: a chunk's rows are deleted in the transaction that counted them.
/// </remarks>
public sealed partial class DeliveryCompaction(
    NewsletterDbContext db, IOptions<DeliveryOptions> options, TimeProvider time, ILogger<DeliveryCompaction> logger)
{
    /// <summary>Rows folded per transaction: small enough that a send sharing SQLite's one writer waits
    /// a moment, not seconds.</summary>
    public int ChunkSize { get; init; } = 10_000;

    /// <summary>Called after each chunk is committed (tests stop a pass there).</summary>
    internal Action? AfterChunk { get; init; }

    public async Task<CompactionResult> CompactAsync(CancellationToken cancellationToken)
    {
        var keep = options.Value.KeepDeliveryRowsFor;
        if (keep <= TimeSpan.Zero)
        {
            return new(0, 0);
        }
        var cutoff = time.GetUtcNow().UtcDateTime - keep;
        var due = await db.Publications.AsNoTracking()
            .Where(p => (p.CompactedAt == null && p.CompletedAt != null && p.CompletedAt <= cutoff
                    && (p.Status == PublicationStatus.Completed || p.Status == PublicationStatus.Cancelled || p.Status == PublicationStatus.Stale))
                || (p.CompactedAt != null && db.Deliveries.Any(d => d.PublicationId == p.Id)))
            .OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        long removed = 0;
        foreach (var id in due)
        {
            await FreezeCountsAsync(id, cancellationToken);
            var rows = await FoldRowsAsync(id, cancellationToken);
            removed += rows;
            LogCompacted(logger, id, rows);
        }
        return new(due.Count, removed);
    }

    private async Task FreezeCountsAsync(int publicationId, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.Publications.AnyAsync(p => p.Id == publicationId && p.CompactedAt != null, cancellationToken))
        {
            return;
        }
        var counts = await PublicationProgress.CountRowsAsync(db, publicationId, cancellationToken);
        var unsubscribed = await db.Deliveries.CountAsync(d => d.PublicationId == publicationId && d.UnsubscribedAt != null, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        await db.Publications.Where(p => p.Id == publicationId && p.CompactedAt == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.CompactedAt, now)
                .SetProperty(p => p.CompactedSent, counts.Sent)
                .SetProperty(p => p.CompactedFailed, counts.Failed)
                .SetProperty(p => p.CompactedSkipped, counts.Skipped)
                .SetProperty(p => p.CompactedUnsent, counts.Unsent)
                .SetProperty(p => p.CompactedUnsubscribed, unsubscribed), cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private async Task<long> FoldRowsAsync(int publicationId, CancellationToken cancellationToken)
    {
        var edition = await db.Publications.Where(p => p.Id == publicationId).Select(p => p.Edition).FirstAsync(cancellationToken);
        long removed = 0;
        var lower = int.MinValue;
        while (true)
        {
            var upper = await db.Deliveries.Where(d => d.PublicationId == publicationId && d.SubscriberId > lower)
                .OrderBy(d => d.SubscriberId).Select(d => (int?)d.SubscriberId).Skip(ChunkSize - 1).FirstOrDefaultAsync(cancellationToken)
                ?? int.MaxValue;
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            await FoldChunkAsync(publicationId, edition, lower, upper, cancellationToken);
            var deleted = await db.Deliveries
                .Where(d => d.PublicationId == publicationId && d.SubscriberId > lower && d.SubscriberId <= upper)
                .ExecuteDeleteAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            removed += deleted;
            AfterChunk?.Invoke();
            if (upper == int.MaxValue)
            {
                return removed;
            }
            lower = upper;
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Adds the chunk's sent and failed messages to their readers' totals: existing totals first,
    /// then new ones for readers still on the list (an erased reader gets none).</summary>
    /// <remarks>Plain SQL every provider reads alike; the slot is read from the publication rather than
    /// passed, so no date parameter meets a provider's date types. A claimed row with CompletedAt set was
    /// accepted by the server (OutcomeWriter.AcceptAsync).</remarks>
    private async Task FoldChunkAsync(int publicationId, string edition, int lower, int upper, CancellationToken cancellationToken)
    {
        const int claimed = (int)DeliveryStatus.Claimed, sent = (int)DeliveryStatus.Sent, failed = (int)DeliveryStatus.Failed;
        await db.Database.ExecuteSqlAsync($"""
            UPDATE "DeliveryTotals" SET
              "Delivered" = "Delivered" + (SELECT COUNT(*) FROM "Deliveries" d WHERE d."PublicationId" = {publicationId}
                AND d."SubscriberId" = "DeliveryTotals"."SubscriberId"
                AND (d."Status" = {sent} OR (d."Status" = {claimed} AND d."CompletedAt" IS NOT NULL))),
              "Failed" = "Failed" + (SELECT COUNT(*) FROM "Deliveries" d WHERE d."PublicationId" = {publicationId}
                AND d."SubscriberId" = "DeliveryTotals"."SubscriberId" AND d."Status" = {failed}),
              "FirstSlotUtc" = CASE WHEN "FirstSlotUtc" > (SELECT p."SlotUtc" FROM "Publications" p WHERE p."Id" = {publicationId})
                THEN (SELECT p."SlotUtc" FROM "Publications" p WHERE p."Id" = {publicationId}) ELSE "FirstSlotUtc" END,
              "LastSlotUtc" = CASE WHEN "LastSlotUtc" < (SELECT p."SlotUtc" FROM "Publications" p WHERE p."Id" = {publicationId})
                THEN (SELECT p."SlotUtc" FROM "Publications" p WHERE p."Id" = {publicationId}) ELSE "LastSlotUtc" END
            WHERE "Edition" = {edition} AND "SubscriberId" > {lower} AND "SubscriberId" <= {upper}
              AND EXISTS (SELECT 1 FROM "Deliveries" d WHERE d."PublicationId" = {publicationId}
                AND d."SubscriberId" = "DeliveryTotals"."SubscriberId"
                AND (d."Status" = {sent} OR d."Status" = {failed} OR (d."Status" = {claimed} AND d."CompletedAt" IS NOT NULL)))
            """, cancellationToken);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "DeliveryTotals" ("SubscriberId", "Edition", "Delivered", "Failed", "FirstSlotUtc", "LastSlotUtc")
            SELECT d."SubscriberId", {edition},
              CASE WHEN d."Status" = {failed} THEN 0 ELSE 1 END, CASE WHEN d."Status" = {failed} THEN 1 ELSE 0 END,
              p."SlotUtc", p."SlotUtc"
            FROM "Deliveries" d JOIN "Publications" p ON p."Id" = d."PublicationId"
            WHERE d."PublicationId" = {publicationId} AND d."SubscriberId" > {lower} AND d."SubscriberId" <= {upper}
              AND (d."Status" = {sent} OR d."Status" = {failed} OR (d."Status" = {claimed} AND d."CompletedAt" IS NOT NULL))
              AND EXISTS (SELECT 1 FROM "Subscribers" s WHERE s."Id" = d."SubscriberId")
              AND NOT EXISTS (SELECT 1 FROM "DeliveryTotals" t WHERE t."SubscriberId" = d."SubscriberId" AND t."Edition" = {edition})
            """, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Publication {PublicationId}: {Rows} delivery rows compacted into its counts and its readers' totals")]
    private static partial void LogCompacted(ILogger logger, int publicationId, long rows);
}
