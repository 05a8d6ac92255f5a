using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Links;
using Newsletter.Worker.Publishing;
using Newsletter.Worker.Scheduling;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Sends one publication: claims due deliveries in batches with a lease, renders the issue once
/// and personalises per recipient, sends over up to <see cref="DeliveryOptions.Connections"/> reused
/// connections, and records each outcome as soon as the server answers.
/// </summary>
/// <remarks>
/// <para>Delivery checkpoints, in order, for each message:</para>
/// <list type="number">
/// <item>Claimed (status Claimed, lease token and expiry). A crash here returns the row to the pool
/// when the lease expires; nobody was mailed. A live sender renews its lease while it works.</item>
/// <item>Re-checked: a recipient who unsubscribed or was suppressed since the snapshot is recorded
/// as skipped and not mailed.</item>
/// <item>Handed to the server.</item>
/// <item>The server's reply recorded (accepted / retry / failed), durably, before this connection sends
/// anything else. A crash between 3 and 4 is the only way a message goes out twice, so after a hard
/// crash there is at most one duplicate per connection that was mid-message.</item>
/// <item>Filed: the batch's accepted rows become Sent when the batch ends (an accepted row is still
/// Claimed, with CompletedAt set, until then: never claimed again; after a crash it is filed once
/// its lease expires). See <see cref="OutcomeWriter.AcceptAsync"/>.</item>
/// </list>
/// <para>Graceful shutdown: the token stops new messages at once; a message already handed to the
/// server gets until the hard stop (part of the host's shutdown timeout) to be answered and recorded;
/// claims not yet attempted go straight back to the pool.</para>
/// </remarks>
public sealed class DeliveryEngine(
    IServiceScopeFactory scopes,
    IMailTransport transport,
    IEmailRenderer renderer,
    MessageFactory messages,
    LinkBuilder links,
    DeliveryPacer pacer,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<EditionsOptions> editions,
    IOptions<HostOptions> hostOptions,
    TimeProvider time,
    ILogger<DeliveryEngine> logger)
{
    /// <summary>How often a run checks its publication's status (pause, cancel, stale) and flushes its error count.</summary>
    internal static readonly TimeSpan ControlInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Identifies this process's claims; unique per engine instance.</summary>
    public string InstanceId { get; } =
        $"{Truncate(Environment.MachineName, 40)}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Runs until every delivery of the publication has an outcome, the publication stops
    /// being in the Sending state (paused, cancelled, stale), or <paramref name="cancellationToken"/>
    /// fires (messages in flight are finished and the other claims released).</summary>
    public async Task<PublicationProgress> RunAsync(
        int publicationId, IProgress<PublicationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Publication publication;
        Issue issue;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            publication = await db.Publications.AsNoTracking().FirstAsync(p => p.Id == publicationId, cancellationToken);
            if (publication.Status == PublicationStatus.Sending
                && await scope.ServiceProvider.GetRequiredService<PublicationControl>().StopIfStaleAsync(publication, cancellationToken))
            {
                publication.Status = PublicationStatus.Stale;
            }
            if (publication.Status != PublicationStatus.Sending || publication.IssueId is null)
            {
                return await PublicationProgress.ReadAsync(db, publicationId, cancellationToken);
            }
            issue = await db.Issues.AsNoTracking().FirstAsync(i => i.Id == publication.IssueId, cancellationToken);
        }

        var edition = editions.Value.Get(publication.Edition);
        var schedule = new EditionSchedule(edition);
        PreparedEmail prepared;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var factory = scope.ServiceProvider.GetRequiredService<EditionEmailFactory>();
            // Rendering happens once per issue (Razor, CSS inlining); per recipient only the
            // personal parts (name, links) are filled in.
            prepared = await renderer.PrepareAsync(
                factory.Create(issue, schedule.LocalDate(new DateTimeOffset(publication.SlotUtc, TimeSpan.Zero))), cancellationToken);
        }

        var o = deliveryOptions.Value;
        await using var outcomesScope = scopes.CreateAsyncScope();
        await using var sharedOutcomes = await OutcomeWriter.OpenSharedAsync(
            outcomesScope.ServiceProvider.GetRequiredService<NewsletterDbContext>(), o.OutcomeDurability, cancellationToken);
        var run = new Run(publication, edition, new EncodedEmail(prepared), new Throttle(o, time)) { SharedOutcomes = sharedOutcomes };
        await using (var scope = scopes.CreateAsyncScope())
        {
            var outstanding = (await PublicationProgress.ReadAsync(
                scope.ServiceProvider.GetRequiredService<NewsletterDbContext>(), publicationId, cancellationToken)).Outstanding;
            // A claim is at most BatchSize / Connections, at most a quarter of each sender's even
            // share (so other processes joining the send get work), and with a rate ceiling at
            // most about a second of sending (so claims are not held idle).
            var size = Math.Max(1, o.BatchSize / o.Connections);
            size = Math.Min(size, Math.Max(1, outstanding / (o.Connections * 4)));
            if (o.MessagesPerSecond > 0)
            {
                size = Math.Min(size, Math.Max(1, (int)Math.Ceiling(o.MessagesPerSecond / o.Connections)));
            }
            run.StartClaiming(size, outstanding, o.Connections);
        }
        // Messages already handed to the server get this long after the stop to be answered and recorded.
        var grace = hostOptions.Value.ShutdownTimeout * 0.6;
        using var hardStop = new CancellationTokenSource();
        await using var onStop = cancellationToken.Register(() => hardStop.CancelAfter(grace));
        using var background = new CancellationTokenSource();
        var control = ControlAsync(run, background.Token);
        var reporter = ReportProgressAsync(run, progress, background.Token);

        logger.LogInformation("Publication {PublicationId} ({Edition}): sending issue {IssueId} \"{Subject}\" with up to {Connections} connection(s)",
            publicationId, publication.Edition, issue.Id, issue.Subject, o.Connections);
        var workers = Enumerable.Range(0, o.Connections)
            .Select(i => Task.Run(() => WorkerAsync(run, i, cancellationToken, hardStop.Token), CancellationToken.None))
            .ToList();
        try
        {
            await Task.WhenAll(workers);
        }
        finally
        {
            await background.CancelAsync();
            await control;
            await reporter;
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            await FlushErrorsAsync(scope.ServiceProvider, run, CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<PublicationControl>().SettleAsync(publicationId, CancellationToken.None);
            await CompleteIfDoneAsync(db, publicationId, CancellationToken.None);
            var final = (await PublicationProgress.ReadAsync(db, publicationId, CancellationToken.None)).WithRate(run.Rate)
                with { SentByThisRun = run.SentThisRun };
            var status = await db.Publications.Where(p => p.Id == publicationId).Select(p => p.Status).FirstAsync(CancellationToken.None);
            progress?.Report(final);
            logger.LogInformation("Publication {PublicationId} ({Edition}) {Status}: {Progress}; this process sent {SentHere} in {Elapsed:0.0}s",
                publicationId, publication.Edition, PublicationControl.Name(status), final, run.SentThisRun, run.Clock.Elapsed.TotalSeconds);
            return final;
        }
    }

    /// <summary>What the senders of one run share.</summary>
    private sealed class Run(Publication publication, EditionOptions edition, EncodedEmail email, Throttle throttle)
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

        /// <summary>Deliveries per claim at most (see where it is set in <see cref="RunAsync"/>).</summary>
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

    /// <summary>
    /// One sender: one SMTP connection (opened on demand, reused, closed when idle), its own
    /// DbContext and prepared outcome commands, working through batches it claims.
    /// </summary>
    private async Task WorkerAsync(Run run, int number, CancellationToken stopping, CancellationToken hardStop)
    {
        var o = deliveryOptions.Value;
        var publicationId = run.Publication.Id;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        var sender = new Sender(number);
        OutcomeWriter? writer = null;
        try
        {
            // The sender's own connection stays open for its queries (and, where there is no shared
            // writer, its outcomes); on SQLite the run's senders record outcomes through one writer.
            // Either way the scope's DbContext closes it at the end.
            OutcomeWriter outcomes;
            if (run.SharedOutcomes is { } shared)
            {
                await OutcomeWriter.OpenConnectionAsync(db, o.OutcomeDurability, stopping);
                outcomes = shared;
            }
            else
            {
                outcomes = writer = await OutcomeWriter.OpenAsync(db, o.OutcomeDurability, stopping);
            }
            while (!stopping.IsCancellationRequested && !run.Stopped)
            {
                if (number >= run.Throttle.AllowedConnections)
                {
                    // Throttled down to fewer connections: this sender sits out until capacity returns.
                    await sender.CloseAsync();
                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, stopping);
                    if (run.Finished)
                    {
                        return;
                    }
                    continue;
                }
                if (run.Throttle.PauseLeft() is { } pause)
                {
                    await sender.CloseAsync();
                    await Task.Delay(pause, time, stopping);
                    continue;
                }

                sender.Slot ??= await pacer.AcquireConnectionSlotAsync(stopping);
                var changed = run.NextChange;
                var batch = await ClaimAsync(db, run, run.NextClaimSize(), stopping);
                run.Claimed(batch.Count);
                if (batch.Count == 0)
                {
                    var wait = await NextDueInAsync(db, publicationId, stopping);
                    if (wait is null)
                    {
                        run.MarkFinished();
                        return; // every delivery has an outcome
                    }
                    if (wait.Value >= TimeSpan.FromSeconds(1))
                    {
                        await sender.CloseAsync(); // retries are a while off; do not hold a connection or a slot
                    }
                    await run.WaitForWorkAsync(changed, wait.Value, time, stopping);
                    continue;
                }
                try
                {
                    await SendBatchAsync(db, outcomes, run, sender, batch, stopping, hardStop);
                }
                finally
                {
                    run.Changed();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            logger.LogInformation("Publication {PublicationId}: sender {Sender} stopped; its claims are released", publicationId, number);
        }
        finally
        {
            await sender.CloseAsync();
            if (writer is not null)
            {
                await writer.DisposeAsync();
            }
        }
    }

    /// <summary>A sender's connection and its slot among the process's connections.</summary>
    private sealed class Sender(int number)
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

    private async Task SendBatchAsync(
        NewsletterDbContext db, OutcomeWriter writer, Run run, Sender sender, List<DeliveryRecord> batch,
        CancellationToken stopping, CancellationToken hardStop)
    {
        var o = deliveryOptions.Value;
        var publicationId = run.Publication.Id;
        var lease = batch[0].LeaseOwner!;
        var leaseExpires = batch[0].LeaseExpiresAt!.Value;
        var next = 0;
        DateTime? releaseAt = null;
        try
        {
            // Inside the try: a stop while the recipients load still hands the whole batch back.
            var recipients = await LoadRecipientsAsync(db, run.Publication.Edition, batch, stopping);
            while (next < batch.Count)
            {
                if (stopping.IsCancellationRequested || run.Stopped || sender.Number >= run.Throttle.AllowedConnections
                    || run.Throttle.PauseLeft() is not null)
                {
                    return; // the rest goes back to the pool (finally)
                }

                var now = time.GetUtcNow().UtcDateTime;
                if (leaseExpires - now < o.LeaseDuration / 2)
                {
                    // Checkpoint: renew the claim before sending on it. Rows whose lease ran out and
                    // were taken by another sender are dropped from this batch, never sent here.
                    (leaseExpires, var kept) = await RenewAsync(db, publicationId, lease, batch, next, stopping);
                    if (kept.Count < batch.Count - next)
                    {
                        batch = [.. batch.Take(next), .. batch.Skip(next).Where(d => kept.Contains(d.Id))];
                        continue;
                    }
                }

                var delivery = batch[next];
                if (!recipients.TryGetValue(delivery.SubscriberId, out var recipient) || recipient.SkipReason is not null)
                {
                    // Checkpoint: re-checked at send time; skipped, and recorded as such.
                    await writer.FinishAsync(delivery.Id, lease, DeliveryStatus.Skipped, delivery.Attempts, now, null,
                        recipient?.SkipReason ?? "not sent: the subscriber no longer exists");
                    next++;
                    continue;
                }

                if (sender.Connection is null)
                {
                    try
                    {
                        sender.Slot ??= await pacer.AcquireConnectionSlotAsync(stopping);
                        sender.Connection = await transport.OpenAsync(stopping);
                        sender.ConnectFailures = 0;
                    }
                    catch (MailTransportException ex)
                    {
                        // The server cannot be reached: not the recipients' fault. The rest of the
                        // batch goes back to the pool for later, and this sender waits with backoff.
                        sender.ConnectFailures++;
                        run.CountError(ex.Message);
                        var delay = Backoff(sender.ConnectFailures, o.ReconnectDelay, TimeSpan.FromMinutes(1));
                        logger.LogWarning("Publication {PublicationId}: {Error}; trying again in {Delay:0.0}s",
                            publicationId, ex.Message, delay.TotalSeconds);
                        releaseAt = time.GetUtcNow().UtcDateTime + delay;
                        await ReleaseAsync(db, publicationId, lease, batch.Skip(next), releaseAt.Value);
                        next = batch.Count;
                        await sender.CloseAsync();
                        await Task.Delay(delay, time, stopping);
                        return;
                    }
                }

                await pacer.AcquireMessageAsync(stopping);
                // The link is signed once and used for the body and the List-Unsubscribe header alike.
                var unsubscribe = links.Unsubscribe(recipient.SubscriberId, run.Publication.Edition);
                // The sender's own message and body buffers, filled again for each recipient: the
                // previous message has been answered and recorded by now.
                var to = new Recipient(recipient.SubscriberId, recipient.Email, recipient.Name);
                MimeMessage message;
                MailboxAddress envelopeTo;
                try
                {
                    sender.Message ??= messages.ForSender(run.Edition, run.Email.Subject, o.PreEncodeBodies);
                    message = sender.Message.Fill(run.Email, new PersonalFields(recipient.Name, unsubscribe, links.Preferences(recipient.SubscriberId)),
                        to, unsubscribe, $"{publicationId}.{delivery.SubscriberId}.{delivery.Id}");
                    envelopeTo = new MailboxAddress(recipient.Name, recipient.Email);
                }
                catch (Exception ex) when (ex is ArgumentException or ParseException)
                {
                    // This one recipient's message cannot be built (a stored address that is not one
                    // mailbox, from before validation or a hand edit): a permanent failure of this
                    // delivery, recorded with the reason; the rest of the send goes on.
                    await writer.FinishAsync(delivery.Id, lease, DeliveryStatus.Failed, delivery.Attempts + 1, now, null,
                        $"not sent: {ex.Message}");
                    run.CountError(ex.Message);
                    logger.LogWarning("Publication {PublicationId}: delivery {DeliveryId} to subscriber {SubscriberId} not sent: {Error}",
                        publicationId, delivery.Id, delivery.SubscriberId, ex.Message);
                    next++;
                    continue;
                }

                SendResult result;
                try
                {
                    // Checkpoint: handed to the server. From here until the outcome is recorded
                    // this connection's message is the one a hard crash could duplicate.
                    result = await sender.Connection.SendAsync(message, messages.EnvelopeFrom(run.Edition, to, publicationId),
                        envelopeTo, hardStop);
                }
                catch (OperationCanceledException)
                {
                    // The hard stop fell mid-message: the server may or may not have it. The row
                    // goes back to the pool (finally) and may be sent once more: the documented duplicate.
                    await sender.DropConnectionAsync();
                    throw;
                }
                next++;
                await RecordAsync(db, writer, run, delivery, recipient, result, lease);
                if (sender.Connection is { IsOpen: false })
                {
                    // Lost, closed by the server (421), or given up by the transport after a refusal:
                    // the next message goes on a new connection (only a lost one counted as an error above).
                    await sender.DropConnectionAsync();
                }
            }
        }
        finally
        {
            // Checkpoint 5: the accepted messages of the batch are filed as sent. If this fails (or
            // the process dies first), they are filed once their lease runs out; never sent again.
            await SettleAcceptedAsync(db, publicationId, lease, batch.Take(next));
            if (next < batch.Count)
            {
                // Claims not attempted go back to the pool at once (or when the pause ends).
                await ReleaseAsync(db, publicationId, lease, batch.Skip(next), releaseAt ?? run.Throttle.ResumeAt(time));
            }
        }
    }

    /// <summary>
    /// Claims up to <paramref name="count"/> due deliveries. Candidates are read first, then claimed
    /// by id with the due condition repeated in the UPDATE, so on every provider (SQL Server
    /// re-evaluates the WHERE on the row it locks) a row another instance claimed in between is not
    /// taken twice; the rows this call owns are those carrying its fresh lease token.
    /// </summary>
    private async Task<List<DeliveryRecord>> ClaimAsync(NewsletterDbContext db, Run run, int count, CancellationToken cancellationToken)
    {
        var publicationId = run.Publication.Id;
        await run.ClaimLock.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var now = time.GetUtcNow().UtcDateTime;
                // Two index range reads (publication, status, next attempt), never a scan of the list.
                var candidates = await db.Deliveries
                    .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
                    .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id).Select(d => d.Id).Take(count)
                    .ToListAsync(cancellationToken);
                if (candidates.Count < count)
                {
                    // An expired claim the server had already accepted is filed as sent, not taken.
                    await OutcomeWriter.SettleAbandonedAsync(db, publicationId, now, cancellationToken);
                    candidates.AddRange(await db.Deliveries
                        .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now
                            && d.CompletedAt == null)
                        .OrderBy(d => d.Id).Select(d => d.Id).Take(count - candidates.Count)
                        .ToListAsync(cancellationToken));
                }
                if (candidates.Count == 0)
                {
                    return [];
                }

                // From here the claim runs to the end whatever the token: once the UPDATE has run, the
                // rows are this sender's until it releases them, and a stop that fell between the
                // UPDATE and reading them back would leave them claimed until the lease ran out.
                cancellationToken.ThrowIfCancellationRequested();
                var lease = $"{InstanceId}:{Guid.NewGuid().ToString("N")[..12]}";
                var expires = now + deliveryOptions.Value.LeaseDuration;
                // By id alone (the candidates are this publication's): with the publication in the
                // WHERE, SQLite's planner, which assumes an equality on an index's first column
                // matches ~10 rows, walked the (PublicationId, SubscriberId) index over every row of
                // the publication on each claim — ~27 ms per claim at 200,000 recipients.
                // EF.Parameter (here and in every id list of a batch): the ids go to the database as
                // one JSON array (json_each on SQLite, OPENJSON on SQL Server), not as one parameter
                // per id. With 250 parameters each statement was a new text for SQLite to compile, and
                // each parameter was bound by a name search through all of them: the claim and the
                // recipients' re-check cost ~30-40 µs per message against ~18 (docs/benchmarks.md).
                var claimed = await db.Deliveries
                    .Where(d => EF.Parameter(candidates).Contains(d.Id)
                        && ((d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
                            || (d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now && d.CompletedAt == null)))
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(d => d.Status, DeliveryStatus.Claimed)
                        .SetProperty(d => d.LeaseOwner, lease)
                        .SetProperty(d => d.LeaseExpiresAt, expires), CancellationToken.None);
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
    private async Task<(DateTime Expires, HashSet<long> Kept)> RenewAsync(
        NewsletterDbContext db, int publicationId, string lease, List<DeliveryRecord> batch, int from, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow().UtcDateTime + deliveryOptions.Value.LeaseDuration;
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
    private async Task<TimeSpan?> NextDueInAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
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

    private sealed record RecipientRow(int SubscriberId, string Email, string? Name, string? SkipReason);

    /// <summary>
    /// The batch's recipients, re-checked at send time: a person who unsubscribed from the edition
    /// or was suppressed after the snapshot is skipped. One query per batch, not per recipient.
    /// </summary>
    private static async Task<Dictionary<int, RecipientRow>> LoadRecipientsAsync(
        NewsletterDbContext db, string edition, List<DeliveryRecord> batch, CancellationToken cancellationToken)
    {
        var ids = batch.Select(d => d.SubscriberId).ToList();
        var rows = await db.Subscribers.AsNoTracking()
            .Where(s => EF.Parameter(ids).Contains(s.Id))
            .Select(s => new
            {
                s.Id,
                s.Email,
                s.Name,
                s.Status,
                Active = s.Subscriptions.Any(x => x.Edition == edition && x.Status == SubscriptionStatus.Active),
                Suppressed = db.Suppressions.Any(x => x.EmailHash == s.EmailHash),
            })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.Id, r => new RecipientRow(r.Id, r.Email, r.Name,
            r.Suppressed ? "not sent: the address is on the suppression list"
            : r.Status != SubscriberStatus.Confirmed ? "not sent: the subscriber is not confirmed"
            : !r.Active ? "not sent: unsubscribed from this edition after the issue was published"
            : null));
    }

    /// <summary>Checkpoint 4: the server's answer, recorded before this connection sends again.</summary>
    private async Task RecordAsync(
        NewsletterDbContext db, OutcomeWriter writer, Run run, DeliveryRecord delivery, RecipientRow recipient,
        SendResult result, string lease)
    {
        var o = deliveryOptions.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        int? code = result.Code == 0 ? null : result.Code;
        switch (result.Status)
        {
            case SendStatus.Accepted:
                await writer.AcceptAsync(delivery.Id, lease, attempts, now, code, result.Reply);
                run.CountSent();
                run.Throttle.OnAccepted(now);
                break;

            case SendStatus.PermanentFailure:
                await writer.FinishAsync(delivery.Id, lease, DeliveryStatus.Failed, attempts, now, code, result.Reply);
                run.CountError(result.Reply);
                logger.LogWarning("Publication {PublicationId}: {Email} refused permanently: {Reply}",
                    run.Publication.Id, recipient.Email, result.Reply);
                await SuppressIfDueAsync(db, recipient, result, now);
                break;

            case SendStatus.TemporaryFailure:
                run.CountError(result.Reply);
                var first = delivery.FirstAttemptAt ?? now;
                if (attempts >= o.MaxAttempts || now - first >= o.MaxRetryAge)
                {
                    await writer.FinishAsync(delivery.Id, lease, DeliveryStatus.Failed, attempts, now, code,
                        $"gave up after {attempts} attempt(s) over {PublicationControl.Describe(now - first)}: {result.Reply}");
                }
                else
                {
                    var retryAt = now + Backoff(attempts, o.RetryBaseDelay, o.MaxRetryDelay);
                    await writer.RetryAsync(delivery.Id, lease, attempts, now, retryAt, code, result.Reply);
                }
                break;

            case SendStatus.SenderThrottled:
                // The sender's problem (throttling, policy, reputation): slow the whole publication
                // down and try again later. Never held against the recipient: attempts unchanged.
                run.CountError(result.Reply);
                if (run.Throttle.OnThrottled(now) is { } slowdown)
                {
                    logger.LogWarning(
                        "Publication {PublicationId}: the server asks us to slow down ({Reply}); going down to {Connections} connection(s) and pausing {Pause:0.0}s",
                        run.Publication.Id, result.Reply, slowdown.Connections, slowdown.Pause.TotalSeconds);
                }
                await writer.RetryAsync(delivery.Id, lease, delivery.Attempts, now, run.Throttle.ResumeAt(time), code, result.Reply);
                break;

            case SendStatus.ConnectionLost:
                // The message may or may not have arrived; it is sent again on a new connection.
                run.CountError(result.Reply);
                await writer.RetryAsync(delivery.Id, lease, delivery.Attempts, now, now, null, $"connection lost: {result.Reply}");
                break;
        }
    }

    /// <summary>
    /// A 5.1.x reply (no such mailbox) suppresses the address at once; other permanent refusals do
    /// after <see cref="DeliveryOptions.SuppressAfterPermanentFailures"/> of them in a row (across issues,
    /// counted since the address last accepted a message).
    /// </summary>
    private async Task SuppressIfDueAsync(NewsletterDbContext db, RecipientRow recipient, SendResult result, DateTime now)
    {
        var threshold = deliveryOptions.Value.SuppressAfterPermanentFailures;
        string note;
        if (result.IsBadMailbox)
        {
            note = $"hard bounce: {result.Reply}";
        }
        else if (threshold > 0)
        {
            // Claimed with CompletedAt: accepted, its batch not filed yet (OutcomeWriter.AcceptAsync).
            var lastSent = await db.Deliveries.Where(d => d.SubscriberId == recipient.SubscriberId
                    && (d.Status == DeliveryStatus.Sent || (d.Status == DeliveryStatus.Claimed && d.CompletedAt != null)))
                .MaxAsync(d => d.CompletedAt);
            var failures = await db.Deliveries.CountAsync(d => d.SubscriberId == recipient.SubscriberId
                && d.Status == DeliveryStatus.Failed && d.ReplyCode >= 500 && d.ReplyCode < 600
                && (lastSent == null || d.CompletedAt > lastSent));
            if (failures < threshold)
            {
                return;
            }
            note = $"{failures} permanent refusals in a row; last: {result.Reply}";
        }
        else
        {
            return;
        }

        var hash = Newsletter.Subscribers.Addresses.EmailAddress.Hash(recipient.Email);
        if (await db.Suppressions.AnyAsync(s => s.EmailHash == hash))
        {
            return;
        }
        db.Suppressions.Add(new Suppression { EmailHash = hash, Reason = SuppressionReason.HardBounce, CreatedAt = now, Note = Truncate(note, 500) });
        try
        {
            await db.SaveChangesAsync();
            logger.LogWarning("Suppressed subscriber {SubscriberId}'s address: {Note}", recipient.SubscriberId, note);
        }
        catch (DbUpdateException)
        {
            // Suppressed concurrently by another sender: the outcome is the same.
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    private async Task SettleAcceptedAsync(NewsletterDbContext db, int publicationId, string lease, IEnumerable<DeliveryRecord> attempted)
    {
        try
        {
            await OutcomeWriter.SettleAcceptedAsync(db, lease, attempted.Select(d => d.Id).ToList());
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // Not lost: the acceptances are recorded; the rows are filed when their lease runs out.
            logger.LogWarning("Publication {PublicationId}: could not file a batch's sent messages yet ({Error}); " +
                "they are filed when their claim expires", publicationId, ex.Message);
        }
    }

    /// <summary>Hands claims back to the pool; for a publication that stopped meanwhile they are settled at once.</summary>
    private async Task ReleaseAsync(NewsletterDbContext db, int publicationId, string lease, IEnumerable<DeliveryRecord> deliveries, DateTime nextAttemptAt)
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

    /// <summary>Marks the publication completed once no delivery is outstanding.</summary>
    internal async Task CompleteIfDoneAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Publications
            .Where(p => p.Id == publicationId && p.Status == PublicationStatus.Sending
                && !db.Deliveries.Any(d => d.PublicationId == publicationId
                    && (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Claimed)))
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, PublicationStatus.Completed)
                .SetProperty(p => p.CompletedAt, now), cancellationToken);
    }

    /// <summary>
    /// Every <see cref="ControlInterval"/>: adds this run's new errors to the publication's count
    /// (pausing it past the budget), and stops the run when the publication is no longer sending
    /// (paused, cancelled) or has gone stale.
    /// </summary>
    private async Task ControlAsync(Run run, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(ControlInterval, time, cancellationToken);
                await using var scope = scopes.CreateAsyncScope();
                try
                {
                    var sp = scope.ServiceProvider;
                    await FlushErrorsAsync(sp, run, cancellationToken);
                    var db = sp.GetRequiredService<NewsletterDbContext>();
                    var publication = await db.Publications.AsNoTracking().FirstAsync(p => p.Id == run.Publication.Id, cancellationToken);
                    if (publication.Status != PublicationStatus.Sending
                        || await sp.GetRequiredService<PublicationControl>().StopIfStaleAsync(publication, cancellationToken))
                    {
                        run.Stop();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Publication {PublicationId}: checking its status failed; trying again", run.Publication.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private async Task FlushErrorsAsync(IServiceProvider services, Run run, CancellationToken cancellationToken)
    {
        var errors = run.TakeErrors();
        if (errors == 0)
        {
            return;
        }
        var db = services.GetRequiredService<NewsletterDbContext>();
        var id = run.Publication.Id;
        await db.Publications.Where(p => p.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.ErrorCount, p => p.ErrorCount + errors), CancellationToken.None);
        var budget = deliveryOptions.Value.ErrorBudget;
        if (budget <= 0)
        {
            return;
        }
        var total = await db.Publications.Where(p => p.Id == id).Select(p => p.ErrorCount).FirstAsync(cancellationToken);
        if (total <= budget)
        {
            return;
        }
        var note = $"paused after {total} delivery errors (the budget is {budget}); last error: {run.LastError}. " +
                   $"Check the SMTP server and settings, then run 'newsletter publications resume {id}'";
        if (await services.GetRequiredService<PublicationControl>().PauseForErrorsAsync(id, note, CancellationToken.None))
        {
            logger.LogError("Publication {PublicationId} ({Edition}) {Note}", id, run.Publication.Edition, note);
        }
        run.Stop();
    }

    /// <summary>Progress at a steady pace (count, percent, rate, ETA), never per message.</summary>
    private async Task ReportProgressAsync(Run run, IProgress<PublicationProgress>? progress, CancellationToken cancellationToken)
    {
        var interval = deliveryOptions.Value.ProgressInterval;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            var start = await PublicationProgress.ReadAsync(db, run.Publication.Id, cancellationToken);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(interval, time, cancellationToken);
                var p = await PublicationProgress.ReadAsync(db, run.Publication.Id, cancellationToken);
                // The rate counts every process sharing the send, from the database.
                p = p.WithRate((p.Done - start.Done) / Math.Max(clock.Elapsed.TotalSeconds, 0.001));
                progress?.Report(p);
                logger.LogInformation("Publication {PublicationId} ({Edition}): {Progress}", run.Publication.Id, run.Publication.Edition, p);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Publication {PublicationId}: progress reporting stopped", run.Publication.Id);
        }
    }

    /// <summary>Exponential backoff with jitter: base × 2^(attempt−1), times 0.5–1, capped.</summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(attempt, 1) - 1, 20));
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() / 2));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, max.TotalMilliseconds));
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}
