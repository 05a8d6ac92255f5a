using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Archive;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Publishing;

public enum PublishOutcome
{
    /// <summary>A publication was created and its recipients snapshotted.</summary>
    Published,

    /// <summary>The edition's queue was empty; the slot is recorded as skipped.</summary>
    Skipped,

    /// <summary>The slot already has a publication (a doubled fire, a restart, another instance).</summary>
    AlreadyDone,
}

public sealed record PublishResult(PublishOutcome Outcome, Publication? Publication);

/// <summary>
/// Turns a slot into a publication. The (edition, slot) unique index is the guard against doing it
/// twice; the issue is taken from the queue by a conditional update, so the same issue cannot be
/// published by two slots or a slot and a send-now either.
/// </summary>
public sealed class Publisher(
    NewsletterDbContext db, IOptions<EditionsOptions> editions, TimeProvider time, ILogger<Publisher> logger)
{
    public async Task<PublishResult> PublishSlotAsync(
        string edition, DateTimeOffset slot, PublicationKind kind, CancellationToken cancellationToken = default)
    {
        var schedule = new EditionSchedule(editions.Value.Get(edition));
        var slotUtc = slot.UtcDateTime;
        if (await db.Publications.AnyAsync(p => p.Edition == edition && p.SlotUtc == slotUtc, cancellationToken))
        {
            logger.LogInformation("{Edition} slot {Slot} is already published; nothing to do", edition, schedule.Describe(slot));
            return new PublishResult(PublishOutcome.AlreadyDone, null);
        }

        var localDate = schedule.LocalDate(slot);
        return await PublishAsync(edition, slotUtc, kind, async () =>
            await Queued(edition).Where(i => i.SendOn == localDate).FirstOrDefaultAsync(cancellationToken)
            ?? await Queued(edition).Where(i => i.SendOn == null).FirstOrDefaultAsync(cancellationToken),
            cancellationToken);
    }

    /// <summary>Publishes one queued issue now, outside its edition's schedule.</summary>
    public async Task<PublishResult> PublishNowAsync(int issueId, CancellationToken cancellationToken = default)
    {
        var issue = await db.Issues.AsNoTracking().FirstOrDefaultAsync(i => i.Id == issueId, cancellationToken)
            ?? throw new InvalidOperationException($"there is no issue {issueId}");
        if (issue.Status != IssueStatus.Queued)
        {
            throw new InvalidOperationException($"issue {issueId} is {issue.Status.ToString().ToLowerInvariant()}, not queued");
        }
        var result = await PublishAsync(issue.Edition, time.GetUtcNow().UtcDateTime, PublicationKind.SendNow,
            () => Task.FromResult<Issue?>(issue), cancellationToken);
        if (result.Outcome != PublishOutcome.Published)
        {
            throw new InvalidOperationException($"issue {issueId} was taken by another publication at the same moment");
        }
        return result;
    }

    /// <summary>Records a slot that passed while the service was down and is too old to catch up.</summary>
    public async Task RecordMissedAsync(string edition, DateTimeOffset slot, CancellationToken cancellationToken = default)
    {
        db.Publications.Add(new Publication
        {
            Edition = edition,
            SlotUtc = slot.UtcDateTime,
            Kind = PublicationKind.Scheduled,
            Status = PublicationStatus.Missed,
            CreatedAt = time.GetUtcNow().UtcDateTime,
            CompletedAt = time.GetUtcNow().UtcDateTime,
            Note = "the service was not running at this slot and came back after the catch-up window",
        });
        if (await TrySaveAsync(cancellationToken))
        {
            logger.LogWarning("{Edition}: the slot {Slot} was missed (the service was down); it is recorded and not sent",
                edition, new EditionSchedule(editions.Value.Get(edition)).Describe(slot));
        }
    }

    private IQueryable<Issue> Queued(string edition) => db.Issues
        .Where(i => i.Edition == edition && i.Status == IssueStatus.Queued)
        .OrderBy(i => i.QueuedAt).ThenBy(i => i.Id);

    private async Task<PublishResult> PublishAsync(
        string edition, DateTime slotUtc, PublicationKind kind, Func<Task<Issue?>> pickIssue,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // Checkpoint: everything below commits together or not at all — the publication row, the
        // issue leaving the queue, and the recipient snapshot.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var issue = await pickIssue();
        if (issue is not null)
        {
            var taken = await db.Issues
                .Where(i => i.Id == issue.Id && i.Status == IssueStatus.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.Status, IssueStatus.Published)
                    .SetProperty(i => i.PublishedAt, now), cancellationToken);
            if (taken == 0)
            {
                return new PublishResult(PublishOutcome.AlreadyDone, null);
            }
            // The archive address is fixed here, before the delivery engine prepares the email that links to it.
            var localDate = new EditionSchedule(editions.Value.Get(edition)).LocalDate(new DateTimeOffset(slotUtc, TimeSpan.Zero));
            await ArchiveKeys.AssignAsync(db, issue.Id, edition, issue.Subject, localDate, cancellationToken);
        }

        var publication = new Publication
        {
            Edition = edition,
            SlotUtc = slotUtc,
            Kind = kind,
            Status = issue is null ? PublicationStatus.Skipped : PublicationStatus.Sending,
            IssueId = issue?.Id,
            CreatedAt = now,
            CompletedAt = issue is null ? now : null,
            Note = issue is null ? "the queue was empty at this slot" : null,
        };
        db.Publications.Add(publication);
        if (!await TrySaveAsync(cancellationToken))
        {
            return new PublishResult(PublishOutcome.AlreadyDone, null);
        }

        if (issue is not null)
        {
            publication.RecipientCount = await SnapshotRecipientsAsync(publication, now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);

        if (issue is null)
        {
            logger.LogWarning("{Edition}: the queue was empty at the slot {Slot}; recorded as skipped",
                edition, slotUtc.ToString("u"));
            return new PublishResult(PublishOutcome.Skipped, publication);
        }
        logger.LogInformation("{Edition}: published issue {IssueId} \"{Subject}\" as publication {PublicationId} to {Count} recipients",
            edition, issue.Id, issue.Subject, publication.Id, publication.RecipientCount);
        return new PublishResult(PublishOutcome.Published, publication);
    }

    /// <summary>How many readers a publication of the edition would reach now: the snapshot's condition, counted.</summary>
    public async Task<int> CountRecipientsAsync(string edition, CancellationToken cancellationToken = default) =>
        (await CountAudienceAsync(edition, cancellationToken)).Recipients;

    /// <summary>The readers a publication of the edition would reach now, and, apart, those it would leave out because they paused.</summary>
    public async Task<(int Recipients, int Paused)> CountAudienceAsync(string edition, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var counts = await db.Subscribers
            .Where(s => s.Status == SubscriberStatus.Confirmed
                && s.Subscriptions.Any(sub => sub.Edition == edition && sub.Status == SubscriptionStatus.Active)
                && !db.Suppressions.Any(x => x.EmailHash == s.EmailHash))
            .GroupBy(s => s.PausedUntil != null && s.PausedUntil > now)
            .Select(g => new { Paused = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return (counts.Where(c => !c.Paused).Sum(c => c.Count), counts.Where(c => c.Paused).Sum(c => c.Count));
    }

    /// <summary>
    /// One delivery row per confirmed, unsuppressed subscriber with an active subscription to the
    /// edition and no pause running at publication time, written by one set-based statement (no
    /// row-by-row work, whatever the list size). A paused reader gets no row: this issue is not owed later.
    /// </summary>
    private Task<int> SnapshotRecipientsAsync(Publication publication, DateTime now, CancellationToken cancellationToken)
    {
        const int active = (int)SubscriptionStatus.Active;
        const int confirmed = (int)SubscriberStatus.Confirmed;
        const int pending = (int)DeliveryStatus.Pending;
        return db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "Deliveries" ("PublicationId", "SubscriberId", "Status", "Attempts", "NextAttemptAt")
            SELECT {publication.Id}, s."Id", {pending}, 0, {now}
            FROM "Subscribers" s
            INNER JOIN "Subscriptions" sub ON sub."SubscriberId" = s."Id"
            WHERE sub."Edition" = {publication.Edition} AND sub."Status" = {active} AND s."Status" = {confirmed}
              AND NOT EXISTS (SELECT 1 FROM "Suppressions" x WHERE x."EmailHash" = s."EmailHash")
              AND (s."PausedUntil" IS NULL OR s."PausedUntil" <= {now})
            """, cancellationToken);
    }

    /// <summary>Saves; a unique-index violation means another fire got there first.</summary>
    private async Task<bool> TrySaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }
}
