using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>Told when a sign-up email has been committed to the outbox, so that a sender in this
/// process can start on it at once instead of at its next poll. Implemented by the host.</summary>
public interface IOutboxSignal
{
    void Notify();
}

/// <summary>A claimed outbox row with what sending it needs: the reader's address and name as they are now.</summary>
public sealed record ClaimedEmail(
    long Id, string Lease, LifecycleEmailKind Kind, int SubscriberId, string Email, string? Name,
    IReadOnlyList<string> Editions, DateTime IssuedAt, int Attempts, string LinkKey);

/// <summary>What became of an attempt that did not end in the server accepting the message.</summary>
public enum RetryOutcome
{
    /// <summary>Back in the pool, due again after a back-off.</summary>
    WillRetry,

    /// <summary>Out of attempts: failed, and the address's email slot given back.</summary>
    GaveUp,

    /// <summary>The row was no longer this sender's (its lease expired and another sender took it, or it was erased).</summary>
    NotHeld,
}

public enum OutboxActivity
{
    /// <summary>Nothing due, nothing being sent: every email is sent, given up on, or waiting for a retry's time.</summary>
    Idle,

    /// <summary>An email is due: waiting for its first attempt or a retry, or held by a lease that expired.</summary>
    Due,

    /// <summary>Nothing due, but an email is being sent under a live lease.</summary>
    InFlight,
}

/// <summary>
/// The sign-up emails' durable outbox (<see cref="OutgoingEmail"/>): how a sender claims due rows
/// and records what happened to each. Safe with several senders on one database (several processes
/// on one SQLite file, or on one SQL Server database).
/// </summary>
/// <remarks>
/// <para>Checkpoints, in order, for each email:</para>
/// <list type="number">
/// <item>Queued (Pending), in the same transaction as the sign-up or preferences change that called
/// for it. Nothing before this point is owed; everything after it is.</item>
/// <item>Claimed (Sending, with a lease token and expiry). A crash here returns the row to the pool
/// when the lease expires; nobody was mailed.</item>
/// <item>Handed to the mail server.</item>
/// <item>The server's answer recorded: Sent; Pending again with a back-off (4xx, unreachable);
/// Failed (5xx, or out of attempts) with the address's email slot given back. A crash between 3 and
/// 4 is the only way an email goes out twice: at-least-once, at most one duplicate per crash.</item>
/// </list>
/// </remarks>
public sealed class LifecycleOutbox(DbContext db, IOptions<SubscriberOptions> options, TimeProvider time)
{
    /// <summary>The first retry's delay; each further retry waits <see cref="BackoffFactor"/> times longer, up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMinutes(1);

    public const int BackoffFactor = 5;

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(12);

    /// <summary>How long to wait after the <paramref name="failedAttempts"/>-th attempt failed: 1, 5, 25 minutes, …, at most 12 hours.</summary>
    public static TimeSpan Backoff(int failedAttempts)
    {
        var delay = FirstBackoff;
        for (var i = 1; i < failedAttempts && delay < MaxBackoff; i++)
        {
            delay *= BackoffFactor;
        }
        return delay < MaxBackoff ? delay : MaxBackoff;
    }

    /// <summary>Adds an email to the outbox; the caller's SaveChanges (in the caller's transaction) writes it.</summary>
    internal static OutgoingEmail Queue(
        DbContext db, Subscriber subscriber, LifecycleEmailKind kind, IReadOnlyList<string> editionKeys, DateTime now, DateTime? previousEmailedAt)
    {
        var row = new OutgoingEmail
        {
            Kind = kind,
            Status = OutgoingEmailStatus.Pending,
            Editions = string.Join(',', editionKeys),
            IssuedAt = now,
            PreviousEmailedAt = previousEmailedAt,
            CreatedAt = now,
            NextAttemptAt = now,
        };
        // A new subscriber gets its id from the same SaveChanges; a known one may not be tracked.
        if (subscriber.Id == 0)
        {
            row.Subscriber = subscriber;
        }
        else
        {
            row.SubscriberId = subscriber.Id;
        }
        db.Add(row);
        return row;
    }

    /// <summary>A newer email replaces any older one to the same reader still waiting (say, in a
    /// retry's back-off): it says the same with a fresher link, and the reader gets one, not two.
    /// An email already being sent is left to finish; a welcome says something else, and is never replaced.</summary>
    internal static Task<int> SupersedeAsync(DbContext db, int subscriberId, DateTime now, CancellationToken cancellationToken) =>
        db.Set<OutgoingEmail>().Where(e => e.SubscriberId == subscriberId && e.Status == OutgoingEmailStatus.Pending
                                           && e.Kind != LifecycleEmailKind.Welcome)
            .ExecuteUpdateAsync(u => u
                .SetProperty(e => e.Status, OutgoingEmailStatus.Cancelled)
                .SetProperty(e => e.CompletedAt, now)
                .SetProperty(e => e.LastError, "Replaced by a newer email to the same reader."), cancellationToken);

    /// <summary>
    /// Claims the next due email (pending and due, or held by a lease that expired) for
    /// <paramref name="leaseDuration"/>, or returns null when none is due. The row is read first and
    /// then claimed by id with the due condition repeated in the UPDATE, so on every provider a row
    /// another sender claimed in between is not taken twice. An email to a reader who has been
    /// suppressed since is cancelled here, not sent.
    /// </summary>
    public async Task<ClaimedEmail?> ClaimNextAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        for (var round = 0; round < 20; round++)
        {
            var now = Now;
            var candidate = await Due(now).OrderBy(e => e.NextAttemptAt).ThenBy(e => e.Id).Select(e => (long?)e.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (candidate is not { } id)
            {
                return null;
            }
            var lease = $"{owner}:{Guid.NewGuid().ToString("N")[..12]}";
            if (lease.Length > SubscriberModel.MaxLeaseOwnerLength)
            {
                lease = lease[^SubscriberModel.MaxLeaseOwnerLength..];
            }
            var expires = now + leaseDuration;
            var claimed = await Due(now).Where(e => e.Id == id)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.Status, OutgoingEmailStatus.Sending)
                    .SetProperty(e => e.LeaseOwner, lease)
                    .SetProperty(e => e.LeaseExpiresAt, expires), cancellationToken);
            if (claimed == 0)
            {
                continue; // Another sender took it first: look again.
            }

            var row = await db.Set<OutgoingEmail>().AsNoTracking()
                .Where(e => e.Id == id && e.LeaseOwner == lease)
                .Select(e => new
                {
                    e.Kind, e.SubscriberId, e.Editions, e.IssuedAt, e.Attempts,
                    Email = e.Subscriber!.Email, e.Subscriber.Name, e.Subscriber.EmailHash, e.Subscriber.LinkKey,
                })
                .FirstOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                continue; // Erased between the claim and this read.
            }
            if (await db.Set<Suppression>().AnyAsync(s => s.EmailHash == row.EmailHash, cancellationToken))
            {
                await CompleteAsync(id, lease, OutgoingEmailStatus.Cancelled, "The address is on the suppression list.", attempts: null, cancellationToken);
                continue;
            }
            return new ClaimedEmail(id, lease, row.Kind, row.SubscriberId, row.Email, row.Name,
                row.Editions.Split(',', StringSplitOptions.RemoveEmptyEntries), row.IssuedAt, row.Attempts, row.LinkKey);
        }
        return null;
    }

    /// <summary>The mail server accepted the email. False when the row was no longer held by this claim.</summary>
    public async Task<bool> MarkSentAsync(ClaimedEmail email, CancellationToken cancellationToken) =>
        await CompleteAsync(email.Id, email.Lease, OutgoingEmailStatus.Sent, null, email.Attempts + 1, cancellationToken) == 1;

    /// <summary>
    /// A temporary failure (4xx, throttling, the server unreachable or the connection lost): back to
    /// the pool after a back-off, or, past <c>Subscribers:EmailMaxAttempts</c>, given up on like a
    /// permanent failure.
    /// </summary>
    public async Task<RetryOutcome> RetryLaterAsync(ClaimedEmail email, string error, CancellationToken cancellationToken)
    {
        var attempts = email.Attempts + 1;
        if (attempts >= options.Value.EmailMaxAttempts)
        {
            return await GiveUpAsync(email, $"Gave up after {attempts} attempt(s): {error}", cancellationToken)
                ? RetryOutcome.GaveUp
                : RetryOutcome.NotHeld;
        }
        var next = Now + Backoff(attempts);
        var clipped = Clip(error);
        var updated = await Held(email).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.Status, OutgoingEmailStatus.Pending)
            .SetProperty(e => e.Attempts, attempts)
            .SetProperty(e => e.NextAttemptAt, next)
            .SetProperty(e => e.LastError, clipped)
            .SetProperty(e => e.LeaseOwner, (string?)null)
            .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null), cancellationToken);
        return updated == 1 ? RetryOutcome.WillRetry : RetryOutcome.NotHeld;
    }

    /// <summary>
    /// A permanent failure (5xx), or out of attempts: the row fails and, in the same transaction, the
    /// address gets its email slot back (unless a later email took it since), so the reader can
    /// simply ask again. False when the row was no longer held by this claim.
    /// </summary>
    public async Task<bool> GiveUpAsync(ClaimedEmail email, string error, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var previous = await db.Set<OutgoingEmail>().Where(e => e.Id == email.Id).Select(e => e.PreviousEmailedAt).FirstOrDefaultAsync(cancellationToken);
        if (await CompleteAsync(email.Id, email.Lease, OutgoingEmailStatus.Failed, error, email.Attempts + 1, cancellationToken) != 1)
        {
            return false;
        }
        await db.Set<Subscriber>().Where(s => s.Id == email.SubscriberId && s.LastEmailedAt == email.IssuedAt)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastEmailedAt, previous), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Hands a claim back untried (the sender is stopping): due again at once, no attempt counted.</summary>
    public Task<int> ReleaseAsync(ClaimedEmail email, CancellationToken cancellationToken) =>
        Held(email).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.Status, OutgoingEmailStatus.Pending)
            .SetProperty(e => e.LeaseOwner, (string?)null)
            .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null), cancellationToken);

    /// <summary>Whether any email is due (work for a sender), else whether any is being sent (by any sender on this database).</summary>
    public async Task<OutboxActivity> ActivityAsync(CancellationToken cancellationToken)
    {
        if (await Due(Now).AnyAsync(cancellationToken))
        {
            return OutboxActivity.Due;
        }
        return await db.Set<OutgoingEmail>().AnyAsync(e => e.Status == OutgoingEmailStatus.Sending, cancellationToken)
            ? OutboxActivity.InFlight
            : OutboxActivity.Idle;
    }

    private IQueryable<OutgoingEmail> Due(DateTime now) => db.Set<OutgoingEmail>().Where(e =>
        (e.Status == OutgoingEmailStatus.Pending && e.NextAttemptAt <= now)
        || (e.Status == OutgoingEmailStatus.Sending && e.LeaseExpiresAt < now));

    /// <summary>The row, only while this claim holds it (status repeated: an expired lease taken over is someone else's).</summary>
    private IQueryable<OutgoingEmail> Held(ClaimedEmail email) => db.Set<OutgoingEmail>()
        .Where(e => e.Id == email.Id && e.Status == OutgoingEmailStatus.Sending && e.LeaseOwner == email.Lease);

    /// <summary>Gives a held row its outcome; <paramref name="attempts"/> null leaves the count as it is.</summary>
    private Task<int> CompleteAsync(long id, string lease, OutgoingEmailStatus status, string? error, int? attempts, CancellationToken cancellationToken)
    {
        var now = Now;
        var clipped = Clip(error);
        return db.Set<OutgoingEmail>()
            .Where(e => e.Id == id && e.Status == OutgoingEmailStatus.Sending && e.LeaseOwner == lease)
            .ExecuteUpdateAsync(u => u
                .SetProperty(e => e.Status, status)
                .SetProperty(e => e.CompletedAt, now)
                .SetProperty(e => e.Attempts, e => attempts ?? e.Attempts)
                .SetProperty(e => e.LastError, e => clipped ?? e.LastError)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null), cancellationToken);
    }

    private static string? Clip(string? error) =>
        error is null ? null : SignupInput.Clip(error, SubscriberModel.MaxOutgoingEmailErrorLength);

    private DateTime Now => time.GetUtcNow().UtcDateTime;
}
