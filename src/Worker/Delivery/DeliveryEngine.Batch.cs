using MimeKit;
using Newsletter.Subscribers.Addresses;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>One sender's claimed batch, message by message: renew the lease, re-check, build, send, record,
/// and file or hand back what is left (checkpoints 2 to 5, docs/delivery.md).</summary>
public sealed partial class DeliveryEngine
{
    private async Task SendBatchAsync(
        NewsletterDbContext db, OutcomeWriter writer, SendRun run, Sender sender, List<DeliveryRecord> batch,
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
            var recipients = await RecipientCheck.LoadAsync(db, run.Publication.Edition, batch, time.GetUtcNow().UtcDateTime, stopping);
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
                    (leaseExpires, var kept) = await _claims.RenewAsync(db, publicationId, lease, batch, next, stopping);
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
                        var delay = Backoff.Exponential(sender.ConnectFailures, o.ReconnectDelay, TimeSpan.FromMinutes(1));
                        logger.LogWarning("Publication {PublicationId}: {Error}; trying again in {Delay:0.0}s",
                            publicationId, ex.Message, delay.TotalSeconds);
                        releaseAt = time.GetUtcNow().UtcDateTime + delay;
                        await _claims.ReleaseAsync(db, publicationId, lease, batch.Skip(next), releaseAt.Value);
                        next = batch.Count;
                        await sender.CloseAsync();
                        await Task.Delay(delay, time, stopping);
                        return;
                    }
                }

                await pacer.AcquireMessageAsync(stopping);
                // The link is signed once and used for the body and the List-Unsubscribe header alike;
                // it names the publication, so leaving through it counts in this results.
                var unsubscribe = links.Unsubscribe(recipient.LinkKey, run.Publication.Edition, publicationId);
                // The sender's own message and body buffers, filled again for each recipient: the
                // previous message has been answered and recorded by now.
                var to = new Recipient(recipient.SubscriberId, recipient.Email, recipient.Name);
                MimeMessage message;
                MailboxAddress envelopeTo;
                try
                {
                    sender.Message ??= messages.ForSender(run.Edition, run.Email.Subject, o.PreEncodeBodies);
                    var fields = new PersonalFields(recipient.Name, unsubscribe, links.Preferences(recipient.LinkKey), crisisLines.LineFor(recipient.CrisisRegion));
                    message = sender.Message.Fill(run.Email, fields,
                        to, unsubscribe, $"{publicationId}.{delivery.SubscriberId}.{delivery.Id}");
                    envelopeTo = new MailboxAddress(recipient.Name, recipient.Email);
                }
                catch (Exception ex) when (ex is ArgumentException or ParseException)
                {
                    // This one recipient's message cannot be built (a stored address that is not one
                    // mailbox, from before validation or a hand edit): a permanent failure of this
                    // delivery, recorded with the reason (which may quote the address: masked); the rest of the send goes on.
                    var error = AddressMask.Mask(ex.Message);
                    await writer.FinishAsync(delivery.Id, lease, DeliveryStatus.Failed, delivery.Attempts + 1, now, null,
                        $"not sent: {error}");
                    run.CountError(error);
                    logger.LogWarning("Publication {PublicationId}: delivery {DeliveryId} to subscriber {Subscriber} not sent: {Error}",
                        publicationId, delivery.Id, logPrivacy.Value.Name(delivery.SubscriberId, recipient.Email), error);
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
                await _outcomes.RecordAsync(db, writer, run, delivery, recipient, result, lease);
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
            await _claims.SettleAcceptedAsync(db, publicationId, lease, batch.Take(next));
            if (next < batch.Count)
            {
                // Claims not attempted go back to the pool at once (or when the pause ends).
                await _claims.ReleaseAsync(db, publicationId, lease, batch.Skip(next), releaseAt ?? run.Throttle.ResumeAt(time));
            }
        }
    }
}
