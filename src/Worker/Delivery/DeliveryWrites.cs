using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Whether the delivery's writes reach the database (a full disk, SQLite's <c>SQLITE_FULL</c>, a lost
/// server), for readiness and for one log line per outage; and the outcomes of messages the server
/// accepted that could not be saved, kept in memory to be written first when the send resumes.
/// </summary>
/// <remarks>
/// A kept outcome is written only while its row is still leased to the sender that sent it (the
/// writer's usual condition), so it never overrides another sender's. If the process ends first, the
/// row is claimed again after its lease: the documented one duplicate per connection.
/// </remarks>
public sealed class DeliveryWrites(TimeProvider time, ILogger<DeliveryWrites> logger)
{
    /// <summary>How long writes must go through, without a refusal, before an outage is over: while a
    /// disk is nearly full some writes fit and others do not, and one outage is one line, not many.</summary>
    public static readonly TimeSpan RecoveryWindow = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<int, ConcurrentQueue<UnsavedOutcome>> _unsaved = new();
    private readonly Lock _gate = new();
    private Failure? _failure;
    private DateTimeOffset? _workingSince;
    private int _refusals;

    /// <summary>Since when, and why, the delivery's writes fail; null while they work.</summary>
    public sealed record Failure(DateTimeOffset Since, string Reason);

    /// <summary>The outage, if there is one; ended here once writes have gone through for <see cref="RecoveryWindow"/>.</summary>
    public Failure? Current
    {
        get
        {
            if (Volatile.Read(ref _failure) is null)
            {
                return null;
            }
            lock (_gate)
            {
                if (_failure is { } failure && _workingSince is { } since && time.GetUtcNow() - since >= RecoveryWindow)
                {
                    _failure = null;
                    _workingSince = null;
                    logger.LogInformation("The database takes delivery outcomes again (refused from {Since:u}); sending has resumed", failure.Since);
                }
                return _failure;
            }
        }
    }

    /// <summary>Refusals so far: taken before a piece of work, handed to <see cref="Worked"/> after it.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>What the database raises when a write does not reach it. SQLite rolling a group back
    /// itself surfaces as <see cref="InvalidOperationException"/> on the statement after (see <see cref="OutcomeWriter"/>).</summary>
    public static bool IsWriteFailure(Exception ex) =>
        ex is DbException or DbUpdateException or InvalidOperationException { Source: "Microsoft.Data.Sqlite" };

    /// <summary>A write failed: logged once per outage (the first failure), not per message or retry.</summary>
    public void Failed(int publicationId, Exception ex)
    {
        var reason = Reason(ex);
        bool first;
        lock (_gate)
        {
            _refusals++;
            _workingSince = null;
            first = _failure is null;
            _failure ??= new Failure(time.GetUtcNow(), reason);
        }
        if (first)
        {
            logger.LogError(
                "Publication {PublicationId}: the database cannot save delivery outcomes ({Reason}); sending is paused and " +
                "resumes by itself once writes succeed again, with every outcome kept until then",
                publicationId, reason);
        }
        else
        {
            logger.LogDebug("Publication {PublicationId}: a delivery write failed again ({Reason})", publicationId, reason);
        }
    }

    /// <summary>A batch or a run begun at <paramref name="refusals"/> (<see cref="Refusals"/>) claimed,
    /// recorded and filed with no write refused, by anyone: the outage, if any, is ending.</summary>
    public void Worked(int refusals)
    {
        if (Volatile.Read(ref _failure) is null)
        {
            return;
        }
        lock (_gate)
        {
            if (_refusals == refusals)
            {
                _workingSince ??= time.GetUtcNow();
            }
        }
        _ = Current;
    }

    /// <summary>Keeps an accepted message's outcome that could not be saved, for <see cref="TakeUnsaved"/>.</summary>
    internal void Keep(int publicationId, UnsavedOutcome outcome) =>
        _unsaved.GetOrAdd(publicationId, _ => new()).Enqueue(outcome);

    /// <summary>The publication's kept outcomes, in the order they were kept; they are no longer kept.</summary>
    internal List<UnsavedOutcome> TakeUnsaved(int publicationId)
    {
        var taken = new List<UnsavedOutcome>();
        if (_unsaved.TryGetValue(publicationId, out var queue))
        {
            while (queue.TryDequeue(out var outcome))
            {
                taken.Add(outcome);
            }
        }
        return taken;
    }

    /// <summary>
    /// A sender met a write the database refused: the run stops (its other senders at their next
    /// message). An answered message's outcome (checkpoint 4: the server has it, the database not)
    /// is kept, to be written first when the send resumes; claimed rows stay leased until then or
    /// until their lease runs out.
    /// </summary>
    internal void Stop(SendRun run, Exception ex)
    {
        if (ex is OutcomeNotSavedException notSaved)
        {
            Keep(run.Publication.Id, notSaved.Outcome);
            ex = notSaved.InnerException ?? ex;
        }
        Failed(run.Publication.Id, ex);
        run.Stop();
    }

    /// <summary>
    /// Writes the publication's kept outcomes before a run claims or sends anything, through the run's
    /// shared writer (SQLite) or one of its own, and files the accepted ones as sent. False when the
    /// database still refuses: they stay kept, and the run sends nothing.
    /// </summary>
    internal async Task<bool> SaveKeptAsync(
        int publicationId, AsyncServiceScope scope, OutcomeWriter? shared, OutcomeDurability durability, CancellationToken cancellationToken)
    {
        if (!_unsaved.TryGetValue(publicationId, out var queue) || queue.IsEmpty)
        {
            return true;
        }
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        if (shared is not null)
        {
            return await SaveKeptAsync(publicationId, db, shared);
        }
        await using var writer = await OutcomeWriter.OpenAsync(db, durability, cancellationToken);
        return await SaveKeptAsync(publicationId, db, writer);
    }

    private async Task<bool> SaveKeptAsync(int publicationId, NewsletterDbContext db, OutcomeWriter writer)
    {
        var kept = TakeUnsaved(publicationId);
        if (kept.Count == 0)
        {
            return true;
        }
        for (var i = 0; i < kept.Count; i++)
        {
            try
            {
                await kept[i].SaveAsync(writer);
            }
            catch (Exception ex) when (IsWriteFailure(ex))
            {
                foreach (var left in kept.Skip(i))
                {
                    Keep(publicationId, left);
                }
                Failed(publicationId, ex);
                return false;
            }
        }
        foreach (var accepted in kept.Where(k => k.Kind == OutcomeKind.Accept).GroupBy(k => k.Lease))
        {
            try
            {
                await OutcomeWriter.SettleAcceptedAsync(db, accepted.Key, [.. accepted.Select(k => k.Id)]);
            }
            catch (Exception ex) when (IsWriteFailure(ex))
            {
                // Recorded as accepted already: filed as sent once the lease runs out (SettleAbandonedAsync).
            }
        }
        logger.LogInformation("Publication {PublicationId}: saved the {Count} outcome(s) kept while the database refused them",
            publicationId, kept.Count);
        return true;
    }

    // The database's own words are the useful part; SQLite's "completed transaction" error is not.
    private static string Reason(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is DbException db)
            {
                return db.Message;
            }
        }
        return ex.Message;
    }
}

/// <summary>One outcome the writer could not save: the call to make again, with the same values.</summary>
internal sealed record UnsavedOutcome(
    long Id, string Lease, OutcomeKind Kind, DeliveryStatus Status, int Attempts, DateTime Now, DateTime? Next, int? Code, string Result)
{
    public Task<int> SaveAsync(OutcomeWriter writer) => Kind switch
    {
        OutcomeKind.Accept => writer.AcceptAsync(Id, Lease, Attempts, Now, Code, Result),
        OutcomeKind.Retry => writer.RetryAsync(Id, Lease, Attempts, Now, Next ?? Now, Code, Result),
        _ => writer.FinishAsync(Id, Lease, Status, Attempts, Now, Code, Result),
    };
}

internal enum OutcomeKind
{
    Accept,
    Finish,
    Retry,
}

/// <summary>The outcome of a message the server answered could not be saved (<see cref="DeliveryWrites"/> keeps it).</summary>
internal sealed class OutcomeNotSavedException(UnsavedOutcome outcome, Exception inner)
    : Exception($"the outcome of delivery {outcome.Id} could not be saved: {inner.Message}", inner)
{
    public UnsavedOutcome Outcome { get; } = outcome;
}
