using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Suppressions;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <param name="Duplicate">The same report was processed before: nothing was changed or counted again.</param>
public sealed record BounceResult(BounceOutcome Outcome, BounceKind Kind, int? PublicationId, int? SubscriberId, string Reason, bool Duplicate = false);

/// <summary>
/// What a returned message does to the list, committed in one transaction with the record of it:
/// a complaint suppresses the address and ends every subscription, a hard bounce suppresses it, and
/// <c>Bounces:SoftBounceLimit</c> soft bounces within the window do too. The reader is the one the VERP
/// token names, else the one the report names; a forged token changes nobody. The same report twice
/// (its key) counts once, so a mailbox may hand it over again after a crash.
/// </summary>
public sealed partial class BounceProcessor(
    NewsletterDbContext db, SuppressionList suppressions, SubscriptionService subscriptions,
    IOptions<BouncesOptions> options, TimeProvider time, NewsletterMetrics metrics, ILogger<BounceProcessor> logger)
{
    public async Task<BounceResult> ProcessAsync(BounceReport report, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        if (await db.Bounces.AnyAsync(b => b.Key == report.Key, cancellationToken))
        {
            return Duplicate(report);
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (reader, result) = await DecideAsync(report, now, cancellationToken);
        // Suppression first: it saves (and on a race clears the change tracker) on its own.
        if (reader is not null && result.Outcome is BounceOutcome.Suppressed or BounceOutcome.Unsubscribed)
        {
            var reason = result.Kind switch
            {
                BounceKind.Complaint => SuppressionReason.Complaint,
                BounceKind.Hard => SuppressionReason.HardBounce,
                _ => SuppressionReason.SoftBounces,
            };
            await suppressions.SuppressAsync(reader.Email, reason, $"{report.Source}: {result.Reason}", cancellationToken: cancellationToken);
            if (result.Outcome == BounceOutcome.Unsubscribed)
            {
                await subscriptions.UnsubscribeAllAsync(reader.Id, cancellationToken);
            }
        }
        db.Bounces.Add(new Bounce
        {
            Key = report.Key,
            ReceivedAt = now,
            Source = report.Source,
            Kind = report.Reading.Kind,
            Outcome = result.Outcome,
            PublicationId = result.PublicationId,
            SubscriberId = result.SubscriberId,
            Status = SignupInput.Clip(report.Reading.Status, Bounce.MaxStatusLength),
            // The remote server's words may name the address: kept only on a reader's own record, which erasure removes.
            Detail = reader is null ? null : SignupInput.Clip(report.Reading.Diagnostic, Bounce.MaxDetailLength),
            Reason = SignupInput.Clip(result.Reason, Bounce.MaxReasonLength)!,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            if (await IsKnownAsync(report.Key))
            {
                // Another poller or webhook delivery committed the same report first.
                return Duplicate(report);
            }
            throw;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
        LogProcessed(logger, report.Source, report.Reading.Kind, result.Outcome, result.PublicationId, result.SubscriberId);
        metrics.Bounced(report.Reading.Kind.ToString().ToLowerInvariant());
        return result;
    }

    private async Task<(Subscriber? Reader, BounceResult Result)> DecideAsync(BounceReport report, DateTime now, CancellationToken cancellationToken)
    {
        var reading = report.Reading;
        BounceResult Result(BounceOutcome outcome, string reason, int? publicationId = null, int? subscriberId = null) =>
            new(outcome, reading.Kind, publicationId, subscriberId, reason);

        if (report.Unreadable)
        {
            return (null, Result(BounceOutcome.Unreadable, reading.Reason));
        }
        if (reading.Kind == BounceKind.None)
        {
            return (null, Result(BounceOutcome.NothingToDo, reading.Reason));
        }
        if (report.Address is { Token: null, Forged: true })
        {
            return (null, Result(BounceOutcome.Forged, "sent back to one of our bounce addresses with a token that does not verify; ignored"));
        }
        Subscriber? reader;
        int? publicationId;
        if (report.Address.Token is { } token)
        {
            if (token.PublicationId == 0)
            {
                return (null, Result(BounceOutcome.NotOnList, "about a test send, not a reader's copy"));
            }
            reader = await db.Subscribers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == token.SubscriberId, cancellationToken);
            publicationId = token.PublicationId;
        }
        else if (reading.Recipient is { } recipient)
        {
            var normalized = EmailAddress.Normalize(recipient);
            reader = await db.Subscribers.AsNoTracking().FirstOrDefaultAsync(s => s.NormalizedEmail == normalized, cancellationToken);
            publicationId = reader is null ? null : await LatestDeliveredAsync(reader.Id, cancellationToken);
        }
        else
        {
            return (null, Result(BounceOutcome.NotOnList, $"{reading.Reason}, but it names no address of ours"));
        }
        if (reader is null)
        {
            return (null, Result(BounceOutcome.NotOnList, $"{reading.Reason}, about an address not on the list"));
        }
        // The token names our reader but the report another address (a forward, an alias): that address is gone, perhaps not theirs.
        var elsewhere = reading is { Kind: BounceKind.Hard, Recipient: { } named } && report.Address.Token is not null
            && !string.Equals(EmailAddress.Normalize(named), reader.NormalizedEmail, StringComparison.Ordinal);
        if (elsewhere)
        {
            return (reader, Result(BounceOutcome.Counted, $"{reading.Reason}, but for another address than the reader's (a forward?); counted, not suppressed",
                publicationId, reader.Id));
        }
        var outcome = reading.Kind switch
        {
            BounceKind.Complaint => BounceOutcome.Unsubscribed,
            BounceKind.Hard => BounceOutcome.Suppressed,
            _ => await SoftBouncesAsync(reader.Id, now, cancellationToken) + 1 >= options.Value.SoftBounceLimit
                ? BounceOutcome.Suppressed : BounceOutcome.Counted,
        };
        var reason = outcome == BounceOutcome.Suppressed && reading.Kind == BounceKind.Soft
            ? $"{reading.Reason}; {options.Value.SoftBounceLimit} soft bounces within {options.Value.SoftBounceWindow.TotalDays:0} days, so suppressed"
            : reading.Reason;
        return (reader, Result(outcome, reason, publicationId, reader.Id));
    }

    private Task<int> SoftBouncesAsync(int subscriberId, DateTime now, CancellationToken cancellationToken)
    {
        var since = now - options.Value.SoftBounceWindow;
        return db.Bounces.CountAsync(b => b.SubscriberId == subscriberId && b.Kind == BounceKind.Soft && b.ReceivedAt >= since, cancellationToken);
    }

    /// <summary>A report that named only the address is put against the last message that reader was delivered.</summary>
    private Task<int?> LatestDeliveredAsync(int subscriberId, CancellationToken cancellationToken) =>
        db.Deliveries.Where(d => d.SubscriberId == subscriberId
                && (d.Status == DeliveryStatus.Sent || (d.Status == DeliveryStatus.Claimed && d.CompletedAt != null)))
            .OrderByDescending(d => d.CompletedAt).Select(d => (int?)d.PublicationId).FirstOrDefaultAsync(cancellationToken);

    private async Task<bool> IsKnownAsync(string key)
    {
        db.ChangeTracker.Clear();
        return await db.Bounces.AnyAsync(b => b.Key == key);
    }

    private static BounceResult Duplicate(BounceReport report) =>
        new(BounceOutcome.NothingToDo, report.Reading.Kind, null, null, "already processed", Duplicate: true);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Returned message from {Source}: {Kind}, {Outcome} (publication {PublicationId}, subscriber {SubscriberId})")]
    private static partial void LogProcessed(ILogger logger, BounceSource source, BounceKind kind, BounceOutcome outcome, int? publicationId, int? subscriberId);
}
