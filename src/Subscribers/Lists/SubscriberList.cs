using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Lists;

/// <summary>The edition keys the host is configured with; declared here, implemented by the host.</summary>
public interface IKnownEditions
{
    IReadOnlyList<string> Keys { get; }
}

public sealed record AddSubscriberResult(bool Succeeded, string Error, Subscriber? Subscriber)
{
    public static AddSubscriberResult Fail(string error) => new(false, error, null);
}

/// <summary>
/// Operations on the list that the host's commands and endpoints share. Works on whichever
/// DbContext the host gives it, through <c>Set&lt;T&gt;()</c>; each call saves its own changes.
/// </summary>
public sealed class SubscriberList(DbContext db, IKnownEditions editions, TimeProvider time, AddressHasher hasher)
{
    /// <summary>Adds a subscriber with the given editions (all editions when none are given).
    /// Refuses invalid input, a duplicate address and a suppressed address without changing anything.</summary>
    public async Task<AddSubscriberResult> AddAsync(
        string email, string? name, IReadOnlyCollection<string> editionKeys, bool confirmed,
        CancellationToken cancellationToken = default)
    {
        if (!EmailAddress.TryValidate(email, out var normalized, out var error))
        {
            return AddSubscriberResult.Fail(error);
        }
        if (!TryValidateName(name, out error))
        {
            return AddSubscriberResult.Fail(error);
        }
        var chosen = editionKeys.Count == 0 ? editions.Keys : editionKeys.Distinct(StringComparer.Ordinal).ToList();
        var unknown = chosen.Where(k => !editions.Keys.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            return AddSubscriberResult.Fail(
                $"unknown edition '{unknown[0]}' (known editions: {string.Join(", ", editions.Keys)})");
        }
        if (await db.Set<Subscriber>().AnyAsync(s => s.NormalizedEmail == normalized, cancellationToken))
        {
            return AddSubscriberResult.Fail($"{normalized} is already on the list");
        }
        var hash = hasher.Hash(normalized);
        if (await db.Set<Suppression>().AnyAsync(s => s.EmailHash == hash, cancellationToken))
        {
            return AddSubscriberResult.Fail($"{normalized} is on the suppression list and cannot be added");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var subscriber = new Subscriber
        {
            Email = email.Trim(),
            NormalizedEmail = normalized,
            EmailHash = hash,
            Name = string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            Status = confirmed ? SubscriberStatus.Confirmed : SubscriberStatus.Pending,
            CreatedAt = now,
            ConfirmedAt = confirmed ? now : null,
            Subscriptions = chosen.Select(k => new Subscription
            {
                Edition = k,
                Status = SubscriptionStatus.Active,
                SubscribedAt = now,
            }).ToList(),
        };
        db.Add(subscriber);
        await db.SaveChangesAsync(cancellationToken);
        return new AddSubscriberResult(true, "", subscriber);
    }

    /// <summary>Ends one edition's subscription. Idempotent: returns false when there was nothing
    /// active to end (already unsubscribed, or no such subscription).</summary>
    public async Task<bool> UnsubscribeAsync(int subscriberId, string edition, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var changed = await db.Set<Subscription>()
            .Where(s => s.SubscriberId == subscriberId && s.Edition == edition && s.Status == SubscriptionStatus.Active)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed)
                .SetProperty(s => s.UnsubscribedAt, now), cancellationToken);
        return changed > 0;
    }

    /// <summary>A display name: optional, at most 100 characters, no line breaks or control characters.</summary>
    public static bool TryValidateName(string? name, out string error)
    {
        error = "";
        if (name is null)
        {
            return true;
        }
        if (name.Trim().Length > SubscriberModel.MaxNameLength)
        {
            error = $"the name is {name.Trim().Length} characters long; the limit is {SubscriberModel.MaxNameLength}";
            return false;
        }
        if (name.Any(char.IsControl))
        {
            error = "the name contains a line break or control character";
            return false;
        }
        return true;
    }
}
