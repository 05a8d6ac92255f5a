using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>
/// A sign-up email the list has put in its outbox (<see cref="OutgoingEmail"/>, row <see cref="OutboxId"/>),
/// in the same transaction as the change that called for it. The address's email slot is taken
/// (<see cref="Subscriber.LastEmailedAt"/> = <see cref="IssuedAt"/>); the host's sender delivers it,
/// retrying temporary failures, and gives the slot back if it has to give up.
/// </summary>
public sealed record LifecycleEmail(long OutboxId, LifecycleEmailKind Kind, int SubscriberId, IReadOnlyList<string> Editions, DateTime IssuedAt)
{
    internal static LifecycleEmail? Of(OutgoingEmail? row) => row is null
        ? null
        : new(row.Id, row.Kind, row.SubscriberId, row.Editions.Split(',', StringSplitOptions.RemoveEmptyEntries), row.IssuedAt);
}

public sealed record SignupRequest(
    string? Email, string? Name, IReadOnlyCollection<string>? Editions, string Source,
    string? IpAddress = null, string? UserAgent = null, string? ConsentTextVersion = null, string? CrisisRegion = null);

/// <summary>A sign-up's answer. Deliberately the same whether the address was new, pending,
/// confirmed or suppressed: only <see cref="Errors"/> (bad input) changes what the caller sees.</summary>
public sealed record SignupResult(IReadOnlyDictionary<string, string> Errors, LifecycleEmail? Email)
{
    public bool Succeeded => Errors.Count == 0;
}

public enum ConfirmState
{
    /// <summary>Malformed, truncated, forged, or for another purpose.</summary>
    Invalid,

    /// <summary>Signed by us, but the sign-up no longer exists (purged or erased).</summary>
    Gone,

    /// <summary>Past <c>Subscribers:ConfirmationLinkLifetimeDays</c> with something still to confirm.</summary>
    Expired,

    /// <summary>Valid, with editions waiting to be confirmed.</summary>
    Pending,

    /// <summary>Nothing waits: confirmed now, or earlier.</summary>
    Confirmed,
}

public sealed record ConfirmView(
    ConfirmState State, int SubscriberId, IReadOnlyList<string> PendingEditions, IReadOnlyList<string> ActiveEditions, string LinkKey = "")
{
    public static ConfirmView Of(ConfirmState state) => new(state, 0, [], []);
}

/// <summary>An edition as the preferences page shows it; <see cref="Status"/> null when never chosen.</summary>
public sealed record EditionChoice(string Key, SubscriptionStatus? Status);

/// <summary>The preferences page's data. <see cref="PausedUntil"/> is set only while a pause is running.</summary>
public sealed record PreferencesView(
    int SubscriberId, string LinkKey, string Email, string? Name, SubscriberStatus Status, IReadOnlyList<EditionChoice> Editions,
    DateTime? PausedUntil = null, string? CrisisRegion = null);

public sealed record PreferencesResult(
    IReadOnlyDictionary<string, string> Errors, PreferencesView? View, IReadOnlyList<string> AwaitingConfirmation, LifecycleEmail? Email);
