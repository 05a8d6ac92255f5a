using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Suppressions;

public enum SuppressOutcome
{
    Added,
    AlreadySuppressed,
    InvalidAddress,
}

public sealed record SuppressResult(SuppressOutcome Outcome, SuppressionReason Reason, string Error = "");

/// <summary>
/// Addresses never to be mailed again, kept as keyed hashes of the normalised address (<see cref="AddressHasher"/>) so an entry
/// outlives the subscriber's erasure. The publication snapshot and the send-time re-check join
/// on <see cref="Subscriber.EmailHash"/>; this class only adds and removes entries.
/// </summary>
public sealed class SuppressionList(DbContext db, TimeProvider time, AddressHasher hasher)
{
    public Task<bool> IsSuppressedAsync(string email, CancellationToken cancellationToken = default)
    {
        var hash = hasher.Hash(email);
        return db.Set<Suppression>().AnyAsync(s => s.EmailHash == hash, cancellationToken);
    }

    /// <summary>Adds an address (idempotent: an existing entry keeps its reason unless
    /// <paramref name="replaceReason"/> is set, as erasure does).</summary>
    public async Task<SuppressResult> SuppressAsync(
        string email, SuppressionReason reason, string? note = null, bool replaceReason = false, CancellationToken cancellationToken = default)
    {
        if (!EmailAddress.TryValidate(email, out var normalized, out var error))
        {
            return new SuppressResult(SuppressOutcome.InvalidAddress, reason, error);
        }
        return await SuppressHashAsync(hasher.Hash(normalized), reason, note, replaceReason, cancellationToken);
    }

    internal async Task<SuppressResult> SuppressHashAsync(
        string hash, SuppressionReason reason, string? note, bool replaceReason, CancellationToken cancellationToken)
    {
        var existing = await db.Set<Suppression>().FirstOrDefaultAsync(s => s.EmailHash == hash, cancellationToken);
        if (existing is not null)
        {
            if (replaceReason && (existing.Reason != reason || existing.Note != note))
            {
                existing.Reason = reason;
                existing.Note = note;
                await db.SaveChangesAsync(cancellationToken);
            }
            return new SuppressResult(SuppressOutcome.AlreadySuppressed, existing.Reason);
        }
        db.Add(new Suppression
        {
            EmailHash = hash,
            Reason = reason,
            CreatedAt = time.GetUtcNow().UtcDateTime,
            Note = note is null ? null : Lifecycle.SignupInput.Clip(note, 500),
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Suppressed at the same moment elsewhere (a bounce, another command): the outcome is the same.
            db.ChangeTracker.Clear();
            return new SuppressResult(SuppressOutcome.AlreadySuppressed, reason);
        }
        return new SuppressResult(SuppressOutcome.Added, reason);
    }

    /// <summary>Removes an address from the list (an operator's correction). False when it was not on it.</summary>
    public async Task<bool> UnsuppressAsync(string email, CancellationToken cancellationToken = default)
    {
        var hash = hasher.Hash(email);
        return await db.Set<Suppression>().Where(s => s.EmailHash == hash).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
