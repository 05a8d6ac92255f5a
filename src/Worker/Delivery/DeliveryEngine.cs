using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Links;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Sends one publication: claims due deliveries in batches with a lease (<see cref="DeliveryClaims"/>),
/// re-checks each batch's recipients (<see cref="RecipientCheck"/>), renders the issue once and
/// personalises per recipient, sends over up to <see cref="DeliveryOptions.Connections"/> reused
/// connections, and records each outcome as soon as the server answers (<see cref="OutcomeRecorder"/>),
/// while a <see cref="RunMonitor"/> watches the publication's status, errors and progress.
/// </summary>
/// <remarks>
/// Each message passes five checkpoints: claimed, re-checked, handed to the server, reply recorded,
/// filed; docs/delivery.md says what a crash at each leaves (at most one duplicate per connection
/// that was mid-message). A graceful stop ends new messages at once and gives those in flight part of
/// the host's shutdown time to be answered and recorded.
/// </remarks>
public sealed partial class DeliveryEngine(
    IServiceScopeFactory scopes,
    IMailTransport transport,
    IEmailRenderer renderer,
    MessageFactory messages,
    LinkBuilder links,
    CrisisLines crisisLines,
    DeliveryPacer pacer,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<EditionsOptions> editions,
    IOptions<HostOptions> hostOptions,
    IOptions<LogPrivacyOptions> logPrivacy,
    TimeProvider time,
    NewsletterMetrics metrics,
    DeliveryWrites writes,
    ILogger<DeliveryEngine> logger)
{
    private readonly DeliveryClaims _claims = new(InstanceId.New(), scopes, deliveryOptions.Value, writes, time, logger);

    private readonly OutcomeRecorder _outcomes = new(deliveryOptions.Value, logPrivacy.Value, time, logger);

    private readonly RunMonitor _monitor = new(scopes, deliveryOptions.Value, time, logger);

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
        // Every line of the run (its senders' too) carries the publication and edition as fields.
        using var logScope = logger.BeginScope(new PublicationLogScope(publicationId, publication.Edition));
        using var span = NewsletterMetrics.Tracing.StartActivity("send publication")?
            .SetTag("newsletter.publication.id", publicationId).SetTag("newsletter.edition", publication.Edition);
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
        var refusals = writes.Refusals;
        if (!await writes.SaveKeptAsync(publicationId, outcomesScope, sharedOutcomes, o.OutcomeDurability, cancellationToken))
        {
            // The database still refuses the outcomes kept from before: nothing new is claimed or sent.
            return await PublicationProgress.ReadAsync(
                outcomesScope.ServiceProvider.GetRequiredService<NewsletterDbContext>(), publicationId, CancellationToken.None);
        }
        var run = new SendRun(publication, edition, new EncodedEmail(prepared), new Throttle(o, time)) { SharedOutcomes = sharedOutcomes };
        if (sharedOutcomes is not null)
        {
            sharedOutcomes.Counters = metrics.For(publication.Edition);
        }
        var ended = "stopped";
        using var running = metrics.Running(run, () => ended);
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
        var control = _monitor.ControlAsync(run, background.Token);
        var reporter = _monitor.ReportProgressAsync(run, progress, background.Token);

        // While the database refuses writes, the retries that find it still refusing say nothing more.
        logger.Log(writes.Current is null ? LogLevel.Information : LogLevel.Debug,
            "Publication {PublicationId} ({Edition}): sending issue {IssueId} \"{Subject}\" with up to {Connections} connection(s)",
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
            await _monitor.EndRunAsync(scope.ServiceProvider, run, writes);
            writes.Worked(refusals);
            var final = (await PublicationProgress.ReadAsync(db, publicationId, CancellationToken.None)).WithRate(run.Rate)
                with { SentByThisRun = run.SentThisRun };
            var status = await db.Publications.Where(p => p.Id == publicationId).Select(p => p.Status).FirstAsync(CancellationToken.None);
            ended = PublicationControl.Name(status);
            progress?.Report(final);
            logger.Log(writes.Current is null ? LogLevel.Information : LogLevel.Debug,
                "Publication {PublicationId} ({Edition}) {Status}: {Progress}; this process sent {SentHere} in {Elapsed:0.0}s",
                publicationId, publication.Edition, PublicationControl.Name(status), final, run.SentThisRun, run.Clock.Elapsed.TotalSeconds);
            return final;
        }
    }

    /// <summary>
    /// One sender: one SMTP connection (opened on demand, reused, closed when idle), its own
    /// DbContext and prepared outcome commands, working through batches it claims.
    /// </summary>
    private async Task WorkerAsync(SendRun run, int number, CancellationToken stopping, CancellationToken hardStop)
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
                writer.Counters = metrics.For(run.Publication.Edition);
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
                var refusals = writes.Refusals;
                List<DeliveryRecord> batch;
                using (var claim = NewsletterMetrics.Tracing.StartActivity("claim"))
                {
                    batch = await _claims.ClaimAsync(db, run, run.NextClaimSize(), stopping);
                    claim?.SetTag("newsletter.claimed", batch.Count);
                }
                run.Claimed(batch.Count);
                if (batch.Count == 0)
                {
                    var wait = await _claims.NextDueInAsync(db, publicationId, stopping);
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
                    using var sending = NewsletterMetrics.Tracing.StartActivity("send batch")?.SetTag("newsletter.sender", number);
                    await SendBatchAsync(db, outcomes, run, sender, batch, stopping, hardStop);
                    writes.Worked(refusals);
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
        catch (Exception ex) when (ex is OutcomeNotSavedException || (DeliveryWrites.IsWriteFailure(ex) && !stopping.IsCancellationRequested))
        {
            // The database refuses writes: the whole run stops (see DeliveryWrites.Stop).
            writes.Stop(run, ex);
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
}
