using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Links;

/// <summary>A signing key as <c>newsletter keys list</c> shows it (never its secret).</summary>
public sealed record KeyListing(string Id, DateTime? CreatedAt, bool Retired, DateTime? RetiredAt, bool Signs);

public enum RetireOutcome
{
    Retired,
    AlreadyRetired,
    Unknown,

    /// <summary>The key signs new links: another must be added first.</summary>
    Signing,
}

/// <summary>
/// Keys kept in the Settings table when none are configured: the single secret of before key ids
/// (<c>token-secret</c>, the key <c>legacy</c>), rotated keys (<c>token-key:ID</c>) and the address hash key.
/// In the database rather than a local file so every instance sharing it signs alike.
/// </summary>
public sealed class StoredKeys(NewsletterDbContext db, TimeProvider time)
{
    internal const string LegacySecret = "token-secret";
    internal const string LegacyRetired = "token-secret-retired";
    internal const string KeyPrefix = "token-key:";
    internal const string AddressHashKey = "address-hash-key";

    private sealed record StoredKey(string Secret, DateTime CreatedAt, DateTime? RetiredAt);

    private sealed record Key(string Id, byte[] Secret, DateTime? CreatedAt, DateTime? RetiredAt);

    /// <summary>The keys not retired, oldest first; when there are none (a new database), one is generated.</summary>
    public SigningKeys LoadOrCreate()
    {
        var active = All().Where(k => k.RetiredAt is null).Select(k => new SigningKey(k.Id, k.Secret)).ToList();
        if (active.Count > 0)
        {
            return new SigningKeys(active);
        }
        TryAdd(NextId());
        db.ChangeTracker.Clear();
        return LoadOrCreate();
    }

    public IReadOnlyList<KeyListing> List()
    {
        var all = All();
        var signing = all.LastOrDefault(k => k.RetiredAt is null)?.Id;
        return [.. all.Select(k => new KeyListing(k.Id, k.CreatedAt, k.RetiredAt is not null, k.RetiredAt, k.Id == signing))];
    }

    /// <summary>Adds a key that signs from now on (in processes started after); null when another
    /// process added the same id at that moment.</summary>
    public string? Rotate()
    {
        var id = NextId();
        return TryAdd(id) ? id : null;
    }

    public RetireOutcome Retire(string id)
    {
        var all = All();
        var key = all.FirstOrDefault(k => k.Id == id);
        if (key is null)
        {
            return RetireOutcome.Unknown;
        }
        if (key.RetiredAt is not null)
        {
            return RetireOutcome.AlreadyRetired;
        }
        if (all.Last(k => k.RetiredAt is null).Id == id)
        {
            return RetireOutcome.Signing;
        }
        var now = Now();
        if (id == SigningKeys.LegacyId)
        {
            db.Settings.Add(new Setting { Key = LegacyRetired, Value = Iso(now) });
        }
        else
        {
            var setting = db.Settings.Single(s => s.Key == KeyPrefix + id);
            var stored = JsonSerializer.Deserialize<StoredKey>(setting.Value)!;
            setting.Value = JsonSerializer.Serialize(stored with { RetiredAt = now });
        }
        db.SaveChanges();
        return RetireOutcome.Retired;
    }

    /// <summary>The stored signing keys with their secrets (base64), oldest first, and the stored address hash
    /// key: what an operator copies into configuration so that links already sent keep working.</summary>
    public (IReadOnlyList<(string Id, string Secret, bool Retired)> Signing, string? AddressHashKey) Export() =>
        ([.. All().Select(k => (k.Id, Convert.ToBase64String(k.Secret), k.RetiredAt is not null))],
         db.Settings.AsNoTracking().FirstOrDefault(s => s.Key == AddressHashKey)?.Value);

    /// <summary>The address hash key kept in the database, generated on first use.</summary>
    public byte[] LoadOrCreateAddressHashKey() =>
        Convert.FromBase64String(GetOrAdd(AddressHashKey, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));

    private List<Key> All()
    {
        var settings = db.Settings.AsNoTracking()
            .Where(s => s.Key == LegacySecret || s.Key == LegacyRetired || s.Key.StartsWith(KeyPrefix)).ToList();
        var keys = new List<Key>();
        if (settings.FirstOrDefault(s => s.Key == LegacySecret) is { } legacy)
        {
            var retired = settings.FirstOrDefault(s => s.Key == LegacyRetired);
            keys.Add(new Key(SigningKeys.LegacyId, Convert.FromBase64String(legacy.Value), null,
                retired is null ? null : DateTime.Parse(retired.Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal)));
        }
        foreach (var (id, stored) in settings.Where(s => s.Key.StartsWith(KeyPrefix, StringComparison.Ordinal))
                     .Select(s => (s.Key[KeyPrefix.Length..], JsonSerializer.Deserialize<StoredKey>(s.Value)!))
                     .OrderBy(k => k.Item2.CreatedAt).ThenBy(k => Number(k.Item1)))
        {
            keys.Add(new Key(id, Convert.FromBase64String(stored.Secret), stored.CreatedAt, stored.RetiredAt));
        }
        return keys;
    }

    /// <summary>Stored keys are named k1, k2, …: short, because every link and bounce address carries the id.</summary>
    private string NextId()
    {
        var ids = db.Settings.AsNoTracking().Where(s => s.Key.StartsWith(KeyPrefix)).Select(s => s.Key).ToList();
        return "k" + (ids.Select(k => Number(k[KeyPrefix.Length..])).DefaultIfEmpty(0).Max() + 1).ToString(CultureInfo.InvariantCulture);
    }

    private static int Number(string id) =>
        id.StartsWith('k') && int.TryParse(id.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private bool TryAdd(string id)
    {
        var value = JsonSerializer.Serialize(new StoredKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)), Now(), null));
        db.Settings.Add(new Setting { Key = KeyPrefix + id, Value = value });
        try
        {
            db.SaveChanges();
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance added it first; theirs is as good.
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private string GetOrAdd(string key, string value)
    {
        if (db.Settings.AsNoTracking().FirstOrDefault(s => s.Key == key) is { } stored)
        {
            return stored.Value;
        }
        db.Settings.Add(new Setting { Key = key, Value = value });
        try
        {
            db.SaveChanges();
            return value;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return db.Settings.AsNoTracking().First(s => s.Key == key).Value;
        }
    }

    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
    }

    private static string Iso(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
