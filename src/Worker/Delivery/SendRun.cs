using System.Diagnostics;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Delivery;

/// <summary>What the senders of one run share.</summary>
internal sealed class SendRun(Publication publication, EditionOptions edition, EncodedEmail email, Throttle throttle)
{
    private int _sent;
    private int _unflushedErrors;
    private int _stopped;
    private int _finished;

    public Publication Publication { get; } = publication;
    public EditionOptions Edition { get; } = edition;
    /// <summary>The issue rendered and its literal text encoded once for the whole run; per recipient only the personal values.</summary>
    public EncodedEmail Email { get; } = email;
    public Throttle Throttle { get; } = throttle;

    /// <summary>On SQLite, the one outcome writer the run's senders share (see <see cref="OutcomeWriter"/>).</summary>
    public OutcomeWriter? SharedOutcomes { get; init; }
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    /// <summary>One claim at a time per run: senders of one process never race each other for rows.</summary>
    public SemaphoreSlim ClaimLock { get; } = new(1, 1);

    public int SentThisRun => Volatile.Read(ref _sent);
    public double Rate => SentThisRun / Math.Max(Clock.Elapsed.TotalSeconds, 0.001);
    public void CountSent() => Interlocked.Increment(ref _sent);

    public string? LastError { get; private set; }

    public void CountError(string reply)
    {
        LastError = reply;
        Interlocked.Increment(ref _unflushedErrors);
    }

    public int TakeErrors() => Interlocked.Exchange(ref _unflushedErrors, 0);

    /// <summary>The publication left the Sending state (paused, cancelled, stale): stop at the next message.</summary>
    public bool Stopped => Volatile.Read(ref _stopped) == 1;
    public void Stop()
    {
        Volatile.Write(ref _stopped, 1);
        Changed();
    }

    /// <summary>A sender found nothing outstanding: the others need not wait for capacity.</summary>
    public bool Finished => Volatile.Read(ref _finished) == 1;

    public void MarkFinished()
    {
        Volatile.Write(ref _finished, 1);
        Changed();
    }

    /// <summary>Deliveries per claim at most (see where it is set in <see cref="DeliveryEngine.RunAsync"/>).</summary>
    public int ClaimSize { get; private set; } = 1;

    /// <summary>The smallest claim towards the end of a send (smaller ones cost more in statements than they save).</summary>
    private const int SmallestTailClaim = 20;

    private int _unclaimed;
    private int _connections = 1;

    public void StartClaiming(int claimSize, int outstanding, int connections)
    {
        ClaimSize = claimSize;
        _unclaimed = outstanding;
        _connections = Math.Max(1, connections);
    }

    /// <summary>
    /// The size of the next claim: <see cref="ClaimSize"/>, shrinking towards the end of the send to
    /// a quarter of each connection's share of what this run has not claimed yet, so the senders run
    /// out of work at about the same time instead of three waiting while one sends a whole claim.
    /// (An estimate: retries and other processes' claims are not counted; it only sizes claims.)
    /// </summary>
    public int NextClaimSize() =>
        Math.Clamp(Volatile.Read(ref _unclaimed) / (_connections * 4), Math.Min(SmallestTailClaim, ClaimSize), ClaimSize);

    public void Claimed(int count) => Interlocked.Add(ref _unclaimed, -count);

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A sender resolved or released its claims: others waiting for work look again.</summary>
    public void Changed() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Completes at the next <see cref="Changed"/>. A sender takes it <em>before</em> it looks for
    /// work: a change between finding nothing and starting to wait (another sender finishing its
    /// batch, or the whole send) has then already completed it, instead of being missed and the
    /// sender sleeping out its full wait at the end of a send.
    /// </summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>Waits <paramref name="wait"/>, or less if <paramref name="changed"/> (<see cref="NextChange"/>,
    /// taken before the sender looked for work) completes.</summary>
    public async Task WaitForWorkAsync(Task changed, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, time, cts.Token);
        await Task.WhenAny(delay, changed);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>A sender's connection and its slot among the process's connections.</summary>
internal sealed class Sender(int number)
{
    public int Number { get; } = number;
    public IDisposable? Slot { get; set; }
    public IMailConnection? Connection { get; set; }

    /// <summary>This sender's message for the run's issue, refilled per recipient (<see cref="MessageFactory.SenderMessage"/>).</summary>
    public MessageFactory.SenderMessage? Message { get; set; }

    public int ConnectFailures { get; set; }

    public async Task CloseAsync()
    {
        await DropConnectionAsync();
        Slot?.Dispose();
        Slot = null;
    }

    public async Task DropConnectionAsync()
    {
        if (Connection is { } c)
        {
            Connection = null;
            await c.DisposeAsync();
        }
    }
}
