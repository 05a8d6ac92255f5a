using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Links;

/// <summary>
/// Once per database: the unkeyed address hashes stored before the hash was keyed become keyed ones
/// (<see cref="AddressHasher.FromUnkeyed"/>), in one transaction with the setting that marks it done and
/// names the key used, so a crash leaves all or nothing and a second run, or instance, changes nothing.
/// </summary>
public static class AddressHashUpgrade
{
    internal const string DoneSetting = "address-hash-keyed";

    /// <summary>True when this call converted the rows; false when they already were.</summary>
    public static async Task<bool> RunAsync(NewsletterDbContext db, AddressHasher hasher, CancellationToken cancellationToken)
    {
        if (await DoneWithAsync(db, cancellationToken) is { } done)
        {
            CheckSameKey(done, hasher);
            return false;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The marker goes in first: a second instance doing the same waits on it, then fails on its key.
        db.Settings.Add(new Setting { Key = DoneSetting, Value = hasher.Fingerprint });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            CheckSameKey((await DoneWithAsync(db, cancellationToken))!, hasher);
            return false;
        }
        var subscribers = await db.Subscribers.AsNoTracking().Select(s => new { s.Id, s.EmailHash }).ToListAsync(cancellationToken);
        foreach (var s in subscribers)
        {
            var keyed = hasher.FromUnkeyed(s.EmailHash);
            await db.Subscribers.Where(x => x.Id == s.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.EmailHash, keyed), cancellationToken);
        }
        var suppressions = await db.Suppressions.AsNoTracking().Select(s => new { s.Id, s.EmailHash }).ToListAsync(cancellationToken);
        foreach (var s in suppressions)
        {
            var keyed = hasher.FromUnkeyed(s.EmailHash);
            await db.Suppressions.Where(x => x.Id == s.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.EmailHash, keyed), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<string?> DoneWithAsync(NewsletterDbContext db, CancellationToken cancellationToken) =>
        (await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == DoneSetting, cancellationToken))?.Value;

    /// <summary>Hashes made with another key match nothing: suppressed addresses would be mailed again.</summary>
    private static void CheckSameKey(string fingerprint, AddressHasher hasher)
    {
        if (fingerprint != hasher.Fingerprint)
        {
            throw new OptionsValidationException(NewsletterOptions.Section, typeof(LinkKeyOptions),
            [
                $"{NewsletterOptions.Section}:AddressHashKey: is not the key this database's address hashes were made with " +
                "(suppressed addresses would no longer match); set it back to that key, or leave it unset if the key was kept in the database",
            ]);
        }
    }
}
