using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Delivery;

/// <summary>What a control command did, in the editor's words.</summary>
public sealed record ControlResult(bool Changed, string Message);

/// <summary>
/// Pause, resume, cancel, and stopping publications that went stale. Every change is one
/// conditional update on the publication's status, so two people (or a person and the error
/// budget) acting at once cannot leave it in a state neither asked for. Senders notice a change
/// within a second, finish the message in flight, and hand their claims back.
/// </summary>
public sealed class PublicationControl(
    NewsletterDbContext db, IOptions<EditionsOptions> editions, TimeProvider time, ILogger<PublicationControl> logger)
{
    public async Task<ControlResult> PauseAsync(int publicationId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var note = $"paused by the editor at {now:yyyy-MM-dd HH:mm} UTC";
        if (await TransitionAsync(publicationId, PublicationStatus.Sending, PublicationStatus.Paused, note, cancellationToken))
        {
            logger.LogWarning("Publication {PublicationId} paused by the editor", publicationId);
            return new ControlResult(true,
                $"Publication {publicationId} is paused. Messages already on their way finish; nobody else is mailed until you resume it.");
        }
        return await RefusedAsync(publicationId, "paused", "only a sending publication can be paused", cancellationToken);
    }

    /// <summary>Pauses a sending publication whose errors passed the budget; false when it was no longer sending.</summary>
    public Task<bool> PauseForErrorsAsync(int publicationId, string note, CancellationToken cancellationToken = default) =>
        TransitionAsync(publicationId, PublicationStatus.Sending, PublicationStatus.Paused, note, cancellationToken);

    /// <summary>Sends a paused publication again, with a fresh error budget; a publication that has
    /// gone stale meanwhile is stopped instead.</summary>
    public async Task<ControlResult> ResumeAsync(int publicationId, CancellationToken cancellationToken = default)
    {
        var publication = await db.Publications.AsNoTracking().FirstOrDefaultAsync(p => p.Id == publicationId, cancellationToken);
        if (publication is null)
        {
            return new ControlResult(false, $"there is no publication {publicationId}");
        }
        if (publication.Status == PublicationStatus.Paused && await StopIfStaleAsync(publication, cancellationToken))
        {
            var stopped = await db.Publications.AsNoTracking().FirstAsync(p => p.Id == publicationId, cancellationToken);
            return new ControlResult(false, $"Publication {publicationId} is too old to resume and has been stopped: {stopped.Note}");
        }
        var changed = await db.Publications
            .Where(p => p.Id == publicationId && p.Status == PublicationStatus.Paused)
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, PublicationStatus.Sending)
                .SetProperty(p => p.ErrorCount, 0)
                .SetProperty(p => p.Note, (string?)null), cancellationToken) > 0;
        if (changed)
        {
            logger.LogInformation("Publication {PublicationId} resumed", publicationId);
            return new ControlResult(true,
                $"Publication {publicationId} is sending again. The running service picks it up within a few seconds " +
                $"(or run 'newsletter publications send {publicationId}' to send from here).");
        }
        return await RefusedAsync(publicationId, "resumed", "only a paused publication can be resumed", cancellationToken);
    }

    /// <summary>Stops a sending or paused publication for good; recipients not yet mailed are marked cancelled.</summary>
    public async Task<ControlResult> CancelAsync(int publicationId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var changed = await db.Publications
            .Where(p => p.Id == publicationId && (p.Status == PublicationStatus.Sending || p.Status == PublicationStatus.Paused))
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, PublicationStatus.Cancelled)
                .SetProperty(p => p.CompletedAt, now)
                .SetProperty(p => p.Note, $"cancelled by the editor at {now:yyyy-MM-dd HH:mm} UTC"), cancellationToken) > 0;
        if (!changed)
        {
            return await RefusedAsync(publicationId, "cancelled", "only a sending or paused publication can be cancelled", cancellationToken);
        }
        var unsent = await SettleAsync(publicationId, cancellationToken);
        logger.LogWarning("Publication {PublicationId} cancelled by the editor; {Unsent} recipient(s) not mailed so far", publicationId, unsent);
        return new ControlResult(true,
            $"Publication {publicationId} is cancelled. {unsent} recipient(s) not mailed so far will not get it " +
            "(messages already on their way may still arrive).");
    }

    /// <summary>Stops every sending or paused publication that has outlived its edition's
    /// MaxPublicationAge. Returns how many were stopped.</summary>
    public async Task<int> StopStalePublicationsAsync(CancellationToken cancellationToken = default)
    {
        var open = await db.Publications.AsNoTracking()
            .Where(p => p.Status == PublicationStatus.Sending || p.Status == PublicationStatus.Paused)
            .ToListAsync(cancellationToken);
        var stopped = 0;
        foreach (var publication in open)
        {
            if (await StopIfStaleAsync(publication, cancellationToken))
            {
                stopped++;
            }
        }
        return stopped;
    }

    /// <summary>The edition's MaxPublicationAge, if it has one and still exists.</summary>
    public TimeSpan? MaxAge(string edition) =>
        editions.Value.TryGet(edition, out var options) ? options.MaxPublicationAge : null;

    /// <summary>True when the publication is past its edition's MaxPublicationAge.</summary>
    public bool IsTooOld(Publication publication) =>
        MaxAge(publication.Edition) is { } max && time.GetUtcNow().UtcDateTime - publication.SlotUtc > max;

    /// <summary>Stops the publication as stale when it is too old; true when it is (now) stale.</summary>
    public async Task<bool> StopIfStaleAsync(Publication publication, CancellationToken cancellationToken = default)
    {
        if (!IsTooOld(publication))
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var max = MaxAge(publication.Edition)!.Value;
        var slot = editions.Value.TryGet(publication.Edition, out var edition)
            ? new EditionSchedule(edition).Describe(new DateTimeOffset(publication.SlotUtc, TimeSpan.Zero))
            : $"{publication.SlotUtc:yyyy-MM-dd HH:mm} UTC";
        var note = $"stopped: still unfinished {Describe(now - publication.SlotUtc)} after its slot ({slot}), " +
                   $"past the edition's limit of {Describe(max)}; the rest of the list does not get this issue, " +
                   "so nobody is mailed stale news";
        var changed = await db.Publications
            .Where(p => p.Id == publication.Id && (p.Status == PublicationStatus.Sending || p.Status == PublicationStatus.Paused))
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, PublicationStatus.Stale)
                .SetProperty(p => p.CompletedAt, now)
                .SetProperty(p => p.Note, note), cancellationToken) > 0;
        if (changed)
        {
            var unsent = await SettleAsync(publication.Id, cancellationToken);
            logger.LogWarning(
                "Publication {PublicationId} ({Edition}) {Note}. {Unsent} recipient(s) were not mailed.",
                publication.Id, publication.Edition, note, unsent);
        }
        return changed || await db.Publications.AnyAsync(p => p.Id == publication.Id && p.Status == PublicationStatus.Stale, cancellationToken);
    }

    /// <summary>
    /// For a cancelled or stale publication: every delivery that is not on its way (pending, or
    /// claimed by a sender whose lease has run out) gets its final status. Claims still held by a
    /// live sender are settled when that sender hands them back. Returns the rows settled now.
    /// </summary>
    public async Task<int> SettleAsync(int publicationId, CancellationToken cancellationToken = default)
    {
        var status = await db.Publications.Where(p => p.Id == publicationId).Select(p => (PublicationStatus?)p.Status)
            .FirstOrDefaultAsync(cancellationToken);
        var (final, reason) = status switch
        {
            PublicationStatus.Cancelled => (DeliveryStatus.Cancelled, "not sent: the publication was cancelled"),
            PublicationStatus.Stale => (DeliveryStatus.Expired, "not sent: the publication went stale before this recipient's turn"),
            _ => ((DeliveryStatus?)null, ""),
        };
        if (final is not { } finalStatus)
        {
            return 0;
        }
        var now = time.GetUtcNow().UtcDateTime;
        // A claim whose message the server accepted before its sender died is sent, not cancelled.
        var sent = await OutcomeWriter.SettleAbandonedAsync(db, publicationId, now, cancellationToken);
        return sent + await db.Deliveries
            .Where(d => d.PublicationId == publicationId
                && (d.Status == DeliveryStatus.Pending
                    || (d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now && d.CompletedAt == null)))
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, finalStatus)
                .SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(d => d.LastResult, reason), cancellationToken);
    }

    private async Task<bool> TransitionAsync(
        int publicationId, PublicationStatus from, PublicationStatus to, string note, CancellationToken cancellationToken) =>
        await db.Publications
            .Where(p => p.Id == publicationId && p.Status == from)
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, to)
                .SetProperty(p => p.Note, note.Length <= 1000 ? note : note[..1000]), cancellationToken) > 0;

    private async Task<ControlResult> RefusedAsync(int publicationId, string verb, string rule, CancellationToken cancellationToken)
    {
        var status = await db.Publications.Where(p => p.Id == publicationId).Select(p => (PublicationStatus?)p.Status)
            .FirstOrDefaultAsync(cancellationToken);
        return new ControlResult(false, status is null
            ? $"there is no publication {publicationId}"
            : $"publication {publicationId} is {Name(status.Value)}, so it cannot be {verb} ({rule}); nothing changed");
    }

    public static string Name(PublicationStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>"2 days", "5 hours", "40 minutes": a span as a person says it.</summary>
    public static string Describe(TimeSpan span)
    {
        static string Unit(double value, string unit)
        {
            var n = Math.Floor(value);
            return $"{n.ToString("0", CultureInfo.InvariantCulture)} {unit}{(n == 1 ? "" : "s")}";
        }
        return span.TotalDays >= 1 ? Unit(span.TotalDays, "day")
            : span.TotalHours >= 1 ? Unit(span.TotalHours, "hour")
            : span.TotalMinutes >= 1 ? Unit(span.TotalMinutes, "minute")
            : Unit(Math.Max(0, span.TotalSeconds), "second");
    }
}
