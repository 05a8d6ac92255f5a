using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Suppressions;

namespace Newsletter.Subscribers.PersonalData;

/// <summary>One email a reader was sent (or was due to be sent), as the host's delivery records know it.</summary>
public sealed record DeliveryHistoryEntry(
    int PublicationId, string Edition, string? IssueSubject, DateTime SlotUtc, string Status, int Attempts, DateTime? CompletedAt, string? LastResult);

/// <summary>What a reader was sent of one edition in publications old enough to have lost their per-recipient records.</summary>
public sealed record EarlierDeliveriesEntry(string Edition, int Delivered, int Failed, DateTime FirstSlotUtc, DateTime LastSlotUtc);

/// <summary>The delivery records a subscriber left behind; declared here, implemented by the host that keeps them.</summary>
public interface IDeliveryHistory
{
    Task<IReadOnlyList<DeliveryHistoryEntry>> ForSubscriberAsync(int subscriberId, CancellationToken cancellationToken);

    /// <summary>Totals per edition of the records compacted away after their retention period.</summary>
    Task<IReadOnlyList<EarlierDeliveriesEntry>> EarlierForSubscriberAsync(int subscriberId, CancellationToken cancellationToken);

    /// <summary>Removes what in those records could identify the person: server replies on their deliveries
    /// (<paramref name="subscriberId"/>, when they were on the list), and <paramref name="normalizedAddress"/>
    /// wherever free text (a publication's note) quotes it, and the person's compacted totals. The records
    /// themselves stay: they say a publication went out, not to whom.</summary>
    Task ForgetAsync(int? subscriberId, string normalizedAddress, CancellationToken cancellationToken);
}

/// <summary>How an export is written, wherever it is asked for (command line or workspace): one format for the person.</summary>
public static class PersonalDataJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}

public sealed record PersonalDataExport(
    DateTime ExportedAt,
    ProfileData Profile,
    IReadOnlyList<SubscriptionData> Subscriptions,
    IReadOnlyList<ConsentData> ConsentRecords,
    SuppressionData? Suppression,
    IReadOnlyList<DeliveryHistoryEntry> Deliveries,
    IReadOnlyList<EarlierDeliveriesEntry> EarlierDeliveries,
    IReadOnlyList<SignupEmailData> SignupEmails);

public sealed record ProfileData(int Id, string Email, string? Name, string Status, DateTime CreatedAt, DateTime? ConfirmedAt, DateTime? LastEmailedAt);

public sealed record SubscriptionData(string Edition, string Status, DateTime SubscribedAt, DateTime? UnsubscribedAt);

public sealed record ConsentData(
    DateTime ConsentedAt, string Source, string Editions, string? IpAddress, string? UserAgent, string? ConsentTextVersion, DateTime? ConfirmedAt);

public sealed record SuppressionData(string Reason, DateTime Since);

/// <summary>A sign-up email (confirmation, "already subscribed", welcome) sent or owed to the person.</summary>
public sealed record SignupEmailData(string Kind, string Editions, DateTime CreatedAt, string Status, int Attempts, DateTime? CompletedAt, string? LastError);

public sealed record EraseResult(bool Found, bool InvalidAddress, string Error = "");

/// <summary>A reader's rights over their data: a copy of everything held about them, and erasure.</summary>
public sealed class PersonalDataService(
    DbContext db, SuppressionList suppressions, IDeliveryHistory deliveries, TimeProvider time, AddressHasher hasher)
{
    /// <summary>Everything held about the address, or null when it is not on the list.</summary>
    public async Task<PersonalDataExport?> ExportAsync(string email, CancellationToken cancellationToken = default)
    {
        var normalized = EmailAddress.Normalize(email);
        var s = await db.Set<Subscriber>().AsNoTracking().Include(x => x.Subscriptions).Include(x => x.ConsentRecords).AsSplitQuery()
            .FirstOrDefaultAsync(x => x.NormalizedEmail == normalized, cancellationToken);
        if (s is null)
        {
            return null;
        }
        var hash = hasher.Hash(normalized);
        var suppression = await db.Set<Suppression>().AsNoTracking().FirstOrDefaultAsync(x => x.EmailHash == hash, cancellationToken);
        return new PersonalDataExport(
            time.GetUtcNow().UtcDateTime,
            new ProfileData(s.Id, s.Email, s.Name, Word(s.Status), s.CreatedAt, s.ConfirmedAt, s.LastEmailedAt),
            [.. s.Subscriptions.OrderBy(x => x.Edition, StringComparer.Ordinal)
                .Select(x => new SubscriptionData(x.Edition, Word(x.Status), x.SubscribedAt, x.UnsubscribedAt))],
            [.. s.ConsentRecords.OrderBy(c => c.ConsentedAt)
                .Select(c => new ConsentData(c.ConsentedAt, c.Source, c.Editions, c.IpAddress, c.UserAgent, c.ConsentTextVersion, c.ConfirmedAt))],
            suppression is null ? null : new SuppressionData(Word(suppression.Reason), suppression.CreatedAt),
            await deliveries.ForSubscriberAsync(s.Id, cancellationToken),
            await deliveries.EarlierForSubscriberAsync(s.Id, cancellationToken),
            [.. (await db.Set<OutgoingEmail>().AsNoTracking().Where(e => e.SubscriberId == s.Id).OrderBy(e => e.Id).ToListAsync(cancellationToken))
                .Select(e => new SignupEmailData(KindWord(e.Kind), e.Editions, e.CreatedAt, Word(e.Status), e.Attempts, e.CompletedAt, e.LastError))]);
    }

    /// <summary>
    /// Deletes the person's data — profile, subscriptions, consent records, sign-up emails (sent or
    /// waiting), and anything in delivery
    /// records that names them — and keeps only the hash of the address on the suppression list
    /// (reason Erased), so the address is never mailed or added again.
    /// </summary>
    public async Task<EraseResult> EraseAsync(string email, CancellationToken cancellationToken = default)
    {
        if (!EmailAddress.TryValidate(email, out var normalized, out var error))
        {
            return new EraseResult(false, true, error);
        }
        var sqlite = db.Database.ProviderName?.Contains("Sqlite", StringComparison.Ordinal) == true;
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (sqlite)
            {
                // SQLite leaves deleted rows readable in free pages; erasure must overwrite them.
                await db.Database.ExecuteSqlRawAsync("PRAGMA secure_delete = ON;", cancellationToken);
            }
            var found = await EraseCoreAsync(normalized, cancellationToken);
            if (sqlite)
            {
                // Copy the zeroed pages into the database file and empty the write-ahead log, which
                // still holds the old ones. Harmless if a reader keeps it from finishing now: the
                // next checkpoint completes it.
                await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
            }
            return new EraseResult(found, false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<bool> EraseCoreAsync(string normalized, CancellationToken cancellationToken)
    {
        // Checkpoint: all of it or none of it.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var id = await db.Set<Subscriber>().Where(s => s.NormalizedEmail == normalized).Select(s => (int?)s.Id).FirstOrDefaultAsync(cancellationToken);
        // Free text may quote the address even when nobody on the list has it now.
        await deliveries.ForgetAsync(id, normalized, cancellationToken);
        if (id is { } subscriberId)
        {
            await db.Set<Subscription>().Where(s => s.SubscriberId == subscriberId).ExecuteDeleteAsync(cancellationToken);
            // Sign-up emails, sent or still owed: an erased person is not written to again. (One
            // already handed to the mail server by a sender at this moment may still arrive.)
            await db.Set<OutgoingEmail>().Where(e => e.SubscriberId == subscriberId).ExecuteDeleteAsync(cancellationToken);
            await db.Set<ConsentRecord>().Where(c => c.SubscriberId == subscriberId).ExecuteDeleteAsync(cancellationToken);
            await db.Set<Subscriber>().Where(s => s.Id == subscriberId).ExecuteDeleteAsync(cancellationToken);
        }
        // The suppression's note may quote a bounce that names the address: it goes too.
        await suppressions.SuppressHashAsync(hasher.Hash(normalized), SuppressionReason.Erased, null, replaceReason: true, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return id is not null;
    }

    private static string KindWord(LifecycleEmailKind kind) => kind switch
    {
        LifecycleEmailKind.ConfirmSubscription => "confirmation",
        LifecycleEmailKind.Welcome => "welcome",
        _ => "already-subscribed",
    };

    private static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
