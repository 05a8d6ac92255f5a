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

/// <summary>Counts of a publication's deliveries by state.</summary>
public sealed record PublicationProgress(int Total, int Sent, int Failed, int Skipped, int Pending, int Retrying, double Rate)
{
    public int Done => Sent + Failed + Skipped;

    public double Percent => Total == 0 ? 100 : 100.0 * Done / Total;

    public TimeSpan? Eta => Rate > 0 && Total > Done ? TimeSpan.FromSeconds((Total - Done) / Rate) : null;

    public override string ToString() =>
        $"{Done}/{Total} ({Percent:0.0}%) sent {Sent}, failed {Failed}, skipped {Skipped}, pending {Pending}, retrying {Retrying}" +
        (Rate > 0 ? $", {Rate:0.0} msg/s" : "") + (Eta is { } eta ? $", ETA {eta:hh\\:mm\\:ss}" : "");
}

/// <summary>
/// Sends one publication: claims due deliveries in batches with a lease, renders the issue once
/// and personalises per recipient, sends over <see cref="DeliveryOptions.Connections"/> reused
/// connections, and records each outcome as soon as the server answers.
/// </summary>
/// <remarks>
/// Delivery checkpoints, in order, for each message:
/// 1. claimed (status Claimed, lease owner and expiry) — a crash here returns the row to the pool
///    when the lease expires; nobody was mailed;
/// 2. handed to the server;
/// 3. the server's reply recorded (Sent / retry / Failed). A crash between 2 and 3 is the only way
///    a message is sent twice, so at most one duplicate per connection that was mid-message.
/// </remarks>
public sealed class DeliveryEngine(
    IServiceScopeFactory scopes,
    IMailTransport transport,
    IEmailRenderer renderer,
    MessageFactory messages,
    LinkBuilder links,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<EditionsOptions> editions,
    TimeProvider time,
    ILogger<DeliveryEngine> logger)
{
    /// <summary>Identifies this process's claims; unique per engine instance.</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Runs until every delivery of the publication has an outcome, the publication stops
    /// being in the Sending state, or <paramref name="cancellationToken"/> fires (claims are then released).</summary>
    public async Task<PublicationProgress> RunAsync(
        int publicationId, IProgress<PublicationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = deliveryOptions.Value;
        Publication publication;
        Issue issue;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            publication = await db.Publications.AsNoTracking().FirstAsync(p => p.Id == publicationId, cancellationToken);
            if (publication.Status != PublicationStatus.Sending || publication.IssueId is null)
            {
                return await ProgressAsync(db, publicationId, 0, cancellationToken);
            }
            issue = await db.Issues.AsNoTracking().FirstAsync(i => i.Id == publication.IssueId, cancellationToken);
        }

        var edition = editions.Value.Get(publication.Edition);
        var schedule = new EditionSchedule(edition);
        PreparedEmail prepared;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var factory = scope.ServiceProvider.GetRequiredService<EditionEmailFactory>();
            // Rendering happens once per issue; per recipient only the personal parts are filled.
            prepared = await renderer.PrepareAsync(
                factory.Create(issue, schedule.LocalDate(new DateTimeOffset(publication.SlotUtc, TimeSpan.Zero))), cancellationToken);
        }

        var run = new Run(publication, edition, prepared);
        var clock = Stopwatch.StartNew();
        using var reporterCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportProgressAsync(run, progress, clock, reporterCts.Token);

        var workers = Enumerable.Range(0, o.Connections).Select(i => WorkerAsync(run, i, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(workers);
        }
        finally
        {
            await reporterCts.CancelAsync();
            await reporter;
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            await CompleteIfDoneAsync(db, publicationId, cancellationToken);
            var final = await ProgressAsync(db, publicationId, run.SentThisRun / Math.Max(clock.Elapsed.TotalSeconds, 0.001), cancellationToken);
            progress?.Report(final);
            logger.LogInformation("Publication {PublicationId} ({Edition}): {Progress}", publicationId, publication.Edition, final);
            return final;
        }
    }

    private sealed class Run(Publication publication, EditionOptions edition, PreparedEmail prepared)
    {
        public Publication Publication { get; } = publication;
        public EditionOptions Edition { get; } = edition;
        public PreparedEmail Prepared { get; } = prepared;
        public MailboxAddress EnvelopeFrom { get; } = MailboxAddress.Parse(edition.From);
        private int _sent;
        public int SentThisRun => Volatile.Read(ref _sent);
        public void CountSent() => Interlocked.Increment(ref _sent);
    }

    private async Task WorkerAsync(Run run, int workerNumber, CancellationToken cancellationToken)
    {
        var o = deliveryOptions.Value;
        var publicationId = run.Publication.Id;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        IMailConnection? connection = null;
        var connectFailures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!await IsSendingAsync(db, publicationId, cancellationToken))
                {
                    return;
                }
                var batch = await ClaimAsync(db, publicationId, Math.Max(1, o.BatchSize / o.Connections), cancellationToken);
                if (batch.Count == 0)
                {
                    var wait = await NextDueInAsync(db, publicationId, cancellationToken);
                    if (wait is null)
                    {
                        return; // every delivery has an outcome
                    }
                    await Task.Delay(wait.Value, time, cancellationToken);
                    continue;
                }

                var recipients = await LoadRecipientsAsync(db, run.Publication.Edition, batch, cancellationToken);
                var index = 0;
                try
                {
                    for (; index < batch.Count; index++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var delivery = batch[index];
                        if (!recipients.TryGetValue(delivery.SubscriberId, out var recipient) || recipient.SkipReason is not null)
                        {
                            await RecordAsync(db, delivery, DeliveryStatus.Skipped,
                                recipient?.SkipReason ?? "the subscriber no longer exists", cancellationToken);
                            continue;
                        }

                        if (connection is null)
                        {
                            try
                            {
                                connection = await transport.OpenAsync(cancellationToken);
                                connectFailures = 0;
                            }
                            catch (MailTransportException ex)
                            {
                                // The server is unreachable: not the recipients' fault. Put the rest of
                                // the batch back, wait with backoff, and try again.
                                connectFailures++;
                                var delay = Backoff(connectFailures, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
                                logger.LogWarning("Publication {PublicationId}: {Error}; retrying in {Delay:0.0}s",
                                    publicationId, ex.Message, delay.TotalSeconds);
                                await ReleaseAsync(db, batch.Skip(index), time.GetUtcNow().UtcDateTime + delay, CancellationToken.None);
                                index = batch.Count;
                                await Task.Delay(delay, time, cancellationToken);
                                break;
                            }
                        }

                        var email = run.Prepared.Personalize(new PersonalFields(
                            recipient.Name, links.Unsubscribe(recipient.SubscriberId, run.Publication.Edition)));
                        var message = messages.Build(run.Edition, email,
                            new Recipient(recipient.SubscriberId, recipient.Email, recipient.Name),
                            links.Unsubscribe(recipient.SubscriberId, run.Publication.Edition),
                            $"{publicationId}.{delivery.SubscriberId}.{delivery.Id}");
                        var result = await connection.SendAsync(message, run.EnvelopeFrom,
                            new MailboxAddress(recipient.Name, recipient.Email), cancellationToken);
                        await RecordResultAsync(db, run, delivery, recipient, result, cancellationToken);
                        if (result.Status is SendStatus.ConnectionLost || (result.Status is SendStatus.SenderThrottled && result.Code == 421))
                        {
                            await connection.DisposeAsync();
                            connection = null;
                        }
                    }
                }
                finally
                {
                    if (index < batch.Count)
                    {
                        // Shutting down: claims not yet attempted go back to the pool at once.
                        await ReleaseAsync(db, batch.Skip(index), time.GetUtcNow().UtcDateTime, CancellationToken.None);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Publication {PublicationId}: sender {Worker} stopped; its claims are released", publicationId, workerNumber);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static Task<bool> IsSendingAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken) =>
        db.Publications.AnyAsync(p => p.Id == publicationId && p.Status == PublicationStatus.Sending, cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="count"/> due deliveries. Candidates are read first, then claimed
    /// by id with the due condition repeated in the UPDATE, so on every provider a row another
    /// instance claimed in between is not taken twice; the rows this call owns are those carrying
    /// its fresh lease token.
    /// </summary>
    private async Task<List<DeliveryRecord>> ClaimAsync(
        NewsletterDbContext db, int publicationId, int count, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var candidates = await Due(db, publicationId, now).OrderBy(d => d.Id).Select(d => d.Id).Take(count)
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }
        var lease = $"{InstanceId}:{Guid.NewGuid():N}";
        var expires = now + deliveryOptions.Value.LeaseDuration;
        await Due(db, publicationId, now).Where(d => candidates.Contains(d.Id))
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, DeliveryStatus.Claimed)
                .SetProperty(d => d.LeaseOwner, lease)
                .SetProperty(d => d.LeaseExpiresAt, expires), cancellationToken);
        return await db.Deliveries.AsNoTracking().Where(d => d.PublicationId == publicationId && d.LeaseOwner == lease)
            .OrderBy(d => d.Id).ToListAsync(cancellationToken);
    }

    private static IQueryable<DeliveryRecord> Due(NewsletterDbContext db, int publicationId, DateTime now) =>
        db.Deliveries.Where(d => d.PublicationId == publicationId
            && ((d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
                || (d.Status == DeliveryStatus.Claimed && d.LeaseExpiresAt < now)));

    /// <summary>How long until something is due; null when nothing is outstanding.</summary>
    private async Task<TimeSpan?> NextDueInAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        var outstanding = db.Deliveries.Where(d => d.PublicationId == publicationId
            && (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Claimed));
        var nextPending = await outstanding.Where(d => d.Status == DeliveryStatus.Pending)
            .MinAsync(d => (DateTime?)d.NextAttemptAt, cancellationToken);
        var nextLease = await outstanding.Where(d => d.Status == DeliveryStatus.Claimed)
            .MinAsync(d => d.LeaseExpiresAt, cancellationToken);
        if (nextPending is null && nextLease is null)
        {
            return null;
        }
        var next = new[] { nextPending, nextLease }.Where(t => t is not null).Min()!.Value;
        var wait = next - time.GetUtcNow().UtcDateTime;
        // Poll at least every few seconds: claims held by another live instance finish early.
        return wait < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50)
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
            .Where(s => ids.Contains(s.Id))
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
            r.Suppressed ? "the address is on the suppression list"
            : r.Status != SubscriberStatus.Confirmed ? "the subscriber is not confirmed"
            : !r.Active ? "unsubscribed from this edition after the issue was published"
            : null));
    }

    private async Task RecordResultAsync(
        NewsletterDbContext db, Run run, DeliveryRecord delivery, RecipientRow recipient, SendResult result,
        CancellationToken cancellationToken)
    {
        var o = deliveryOptions.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        switch (result.Status)
        {
            case SendStatus.Accepted:
                run.CountSent();
                await RecordAsync(db, delivery, DeliveryStatus.Sent, result.Reply, CancellationToken.None, attempts);
                break;
            case SendStatus.PermanentFailure:
                await RecordAsync(db, delivery, DeliveryStatus.Failed, result.Reply, CancellationToken.None, attempts);
                if (result.IsBadMailbox)
                {
                    await SuppressAsync(db, recipient, result.Reply, now, cancellationToken);
                }
                logger.LogWarning("Publication {PublicationId}: {Email} refused permanently: {Reply}",
                    run.Publication.Id, recipient.Email, result.Reply);
                break;
            case SendStatus.TemporaryFailure when attempts >= o.MaxAttempts:
                await RecordAsync(db, delivery, DeliveryStatus.Failed,
                    $"gave up after {attempts} attempts: {result.Reply}", CancellationToken.None, attempts);
                break;
            case SendStatus.TemporaryFailure:
            case SendStatus.SenderThrottled:
            case SendStatus.ConnectionLost:
                // Throttling and broken connections are not the recipient's fault: they are retried
                // without using up the recipient's attempts.
                var counted = result.Status == SendStatus.TemporaryFailure ? attempts : delivery.Attempts;
                var delay = result.Status == SendStatus.ConnectionLost
                    ? TimeSpan.Zero
                    : Backoff(Math.Max(1, attempts), o.RetryBaseDelay, TimeSpan.FromHours(2));
                await db.Deliveries.Where(d => d.Id == delivery.Id && d.LeaseOwner == delivery.LeaseOwner)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(d => d.Status, DeliveryStatus.Pending)
                        .SetProperty(d => d.Attempts, counted)
                        .SetProperty(d => d.NextAttemptAt, now + delay)
                        .SetProperty(d => d.LeaseOwner, (string?)null)
                        .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null)
                        .SetProperty(d => d.LastResult, Truncate(result.Reply)), CancellationToken.None);
                break;
        }
    }

    private async Task RecordAsync(
        NewsletterDbContext db, DeliveryRecord delivery, DeliveryStatus status, string result,
        CancellationToken cancellationToken, int? attempts = null)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var count = attempts ?? delivery.Attempts;
        // Conditional on still holding the lease: if it expired and another instance took the row,
        // that instance's outcome stands.
        await db.Deliveries.Where(d => d.Id == delivery.Id && d.LeaseOwner == delivery.LeaseOwner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, status)
                .SetProperty(d => d.Attempts, count)
                .SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(d => d.LastResult, Truncate(result)), cancellationToken);
    }

    private static async Task ReleaseAsync(
        NewsletterDbContext db, IEnumerable<DeliveryRecord> deliveries, DateTime nextAttemptAt, CancellationToken cancellationToken)
    {
        foreach (var group in deliveries.GroupBy(d => d.LeaseOwner))
        {
            var ids = group.Select(d => d.Id).ToList();
            await db.Deliveries.Where(d => ids.Contains(d.Id) && d.LeaseOwner == group.Key && d.Status == DeliveryStatus.Claimed)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(d => d.Status, DeliveryStatus.Pending)
                    .SetProperty(d => d.NextAttemptAt, nextAttemptAt)
                    .SetProperty(d => d.LeaseOwner, (string?)null)
                    .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null), cancellationToken);
        }
    }

    private static async Task SuppressAsync(
        NewsletterDbContext db, RecipientRow recipient, string reply, DateTime now, CancellationToken cancellationToken)
    {
        var hash = Subscribers.Addresses.EmailAddress.Hash(recipient.Email);
        if (await db.Suppressions.AnyAsync(s => s.EmailHash == hash, cancellationToken))
        {
            return;
        }
        db.Suppressions.Add(new Suppression { EmailHash = hash, Reason = SuppressionReason.HardBounce, CreatedAt = now, Note = Truncate(reply, 500) });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
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

    public static async Task<PublicationProgress> ProgressAsync(
        NewsletterDbContext db, int publicationId, double rate, CancellationToken cancellationToken)
    {
        var counts = await db.Deliveries.Where(d => d.PublicationId == publicationId)
            .GroupBy(d => new { d.Status, Retrying = d.Attempts > 0 })
            .Select(g => new { g.Key.Status, g.Key.Retrying, Count = g.Count() })
            .ToListAsync(cancellationToken);
        int Count(DeliveryStatus s) => counts.Where(c => c.Status == s).Sum(c => c.Count);
        var retrying = counts.Where(c => c.Retrying && c.Status is DeliveryStatus.Pending or DeliveryStatus.Claimed).Sum(c => c.Count);
        return new PublicationProgress(
            Total: counts.Sum(c => c.Count),
            Sent: Count(DeliveryStatus.Sent),
            Failed: Count(DeliveryStatus.Failed),
            Skipped: Count(DeliveryStatus.Skipped),
            Pending: Count(DeliveryStatus.Pending) + Count(DeliveryStatus.Claimed) - retrying,
            Retrying: retrying,
            Rate: rate);
    }

    private async Task ReportProgressAsync(
        Run run, IProgress<PublicationProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var interval = deliveryOptions.Value.ProgressInterval;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        try
        {
            while (true)
            {
                await Task.Delay(interval, time, cancellationToken);
                var p = await ProgressAsync(db, run.Publication.Id, run.SentThisRun / clock.Elapsed.TotalSeconds, cancellationToken);
                progress?.Report(p);
                logger.LogInformation("Publication {PublicationId} ({Edition}): {Progress}", run.Publication.Id, run.Publication.Edition, p);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var jittered = exponential * (0.5 + Random.Shared.NextDouble() / 2);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, max.TotalMilliseconds));
    }

    private static string Truncate(string value, int max = 1000) => value.Length <= max ? value : value[..max];
}
