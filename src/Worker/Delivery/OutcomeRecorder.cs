using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Checkpoint 4 of a message: the server's reply becomes the delivery's outcome (sent, retry later,
/// failed), the run's counters and throttle hear of it, and an address that keeps refusing is suppressed.
/// </summary>
internal sealed class OutcomeRecorder(DeliveryOptions options, LogPrivacyOptions privacy, TimeProvider time, ILogger logger)
{
    /// <summary>Checkpoint 4: the server's answer, recorded before this connection sends again.</summary>
    public async Task RecordAsync(
        NewsletterDbContext db, OutcomeWriter writer, SendRun run, DeliveryRecord delivery, RecipientRow recipient,
        SendResult result, string lease)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        int? code = result.Code == 0 ? null : result.Code;
        switch (result.Status)
        {
            case SendStatus.Accepted:
                await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Accept, DeliveryStatus.Sent, attempts, now, null, code, result.Reply));
                run.CountSent();
                run.Throttle.OnAccepted(now);
                break;

            case SendStatus.PermanentFailure:
                await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Finish, DeliveryStatus.Failed, attempts, now, null, code, result.Reply));
                run.CountError(result.Reply);
                logger.LogWarning("Publication {PublicationId}: subscriber {Subscriber} refused permanently: {Reply}",
                    run.Publication.Id, privacy.Name(recipient.SubscriberId, recipient.Email), result.Reply);
                await SuppressIfDueAsync(db, recipient, result, now);
                break;

            case SendStatus.TemporaryFailure:
                run.CountError(result.Reply);
                var first = delivery.FirstAttemptAt ?? now;
                if (attempts >= options.MaxAttempts || now - first >= options.MaxRetryAge)
                {
                    await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Finish, DeliveryStatus.Failed, attempts, now, null, code,
                        $"gave up after {attempts} attempt(s) over {PublicationControl.Describe(now - first)}: {result.Reply}"));
                }
                else
                {
                    var retryAt = now + Backoff.Exponential(attempts, options.RetryBaseDelay, options.MaxRetryDelay);
                    await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Retry, DeliveryStatus.Pending, attempts, now, retryAt, code, result.Reply));
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
                await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Retry, DeliveryStatus.Pending, delivery.Attempts, now,
                    run.Throttle.ResumeAt(time), code, result.Reply));
                break;

            case SendStatus.ConnectionLost:
                // The message may or may not have arrived; it is sent again on a new connection.
                run.CountError(result.Reply);
                await SaveAsync(writer, new(delivery.Id, lease, OutcomeKind.Retry, DeliveryStatus.Pending, delivery.Attempts, now, now, null,
                    $"connection lost: {result.Reply}"));
                break;
        }
    }

    /// <summary>Saves one answered message's outcome; if the database refuses, the outcome goes up
    /// with the exception, for <see cref="DeliveryWrites"/> to keep and write when the send resumes.</summary>
    private static async Task SaveAsync(OutcomeWriter writer, UnsavedOutcome outcome)
    {
        try
        {
            await outcome.SaveAsync(writer);
        }
        catch (Exception ex) when (DeliveryWrites.IsWriteFailure(ex))
        {
            throw new OutcomeNotSavedException(outcome, ex);
        }
    }

    /// <summary>
    /// A 5.1.x reply (no such mailbox) suppresses the address at once; other permanent refusals do
    /// after <see cref="DeliveryOptions.SuppressAfterPermanentFailures"/> of them in a row (across issues,
    /// counted since the address last accepted a message).
    /// </summary>
    private async Task SuppressIfDueAsync(NewsletterDbContext db, RecipientRow recipient, SendResult result, DateTime now)
    {
        var threshold = options.SuppressAfterPermanentFailures;
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

        // The subscriber's stored hash: the same keyed hash the suppression list is matched on.
        var hash = recipient.EmailHash;
        if (await db.Suppressions.AnyAsync(s => s.EmailHash == hash))
        {
            return;
        }
        db.Suppressions.Add(new Suppression { EmailHash = hash, Reason = SuppressionReason.HardBounce, CreatedAt = now, Note = Truncate(note, 500) });
        try
        {
            await db.SaveChangesAsync();
            logger.LogWarning("Suppressed subscriber {Subscriber}'s address: {Note}", privacy.Name(recipient.SubscriberId, recipient.Email), note);
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

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}
