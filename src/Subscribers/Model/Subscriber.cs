using System.Security.Cryptography;

namespace Newsletter.Subscribers.Model;

/// <summary>One person on the list (every time stored is UTC). The address is stored as typed
/// and, separately, in its normalised form and as a hash of that, which is what uniqueness and
/// suppression are checked against.</summary>
public sealed class Subscriber
{
    public int Id { get; set; }

    public required string Email { get; set; }

    /// <summary>Lower-cased, trimmed address; unique.</summary>
    public required string NormalizedEmail { get; set; }

    /// <summary>Keyed hash of <see cref="NormalizedEmail"/> (<c>AddressHasher</c>), joined against the suppression list.</summary>
    public required string EmailHash { get; set; }

    public string? Name { get; set; }

    /// <summary>What the reader's links name instead of the row id: random, so a link opens this reader's
    /// page in this database only (a re-imported reader gets a new one). 32 lower-case hex characters.</summary>
    public string LinkKey { get; set; } = NewLinkKey();

    /// <summary>Links issued up to then (the reader or an editor revoked them) no longer open anything,
    /// except that unsubscribe links in emails already sent still unsubscribe.</summary>
    public DateTime? LinksRevokedAt { get; set; }

    /// <summary>The reader was on the list when links named row ids: such links of theirs still work.
    /// False for everyone added since, so an old link can never name a newer reader who took the number.</summary>
    public bool LegacyLinks { get; set; }

    public SubscriberStatus Status { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? ConfirmedAt { get; set; }

    /// <summary>When the last lifecycle email (confirmation, "already subscribed") went to this
    /// address. At most one such email per address per <c>Subscribers:EmailInterval</c>.</summary>
    public DateTime? LastEmailedAt { get; set; }

    /// <summary>No email of any edition until then (the reader asked for a break); null when not paused.</summary>
    public DateTime? PausedUntil { get; set; }

    /// <summary>The crisis-resources region the reader chose (a key of the configured regions); null for the default.</summary>
    public string? CrisisRegion { get; set; }

    public List<Subscription> Subscriptions { get; set; } = [];

    public List<ConsentRecord> ConsentRecords { get; set; } = [];

    public static string NewLinkKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

public enum SubscriberStatus
{
    /// <summary>Signed up, has not confirmed yet: receives nothing but the confirmation email.</summary>
    Pending = 0,

    /// <summary>Confirmed (double opt-in, or imported with consent evidence).</summary>
    Confirmed = 1,
}

/// <summary>A subscriber's choice of one edition.</summary>
public sealed class Subscription
{
    public int SubscriberId { get; set; }

    /// <summary>Edition key, e.g. <c>weekly-tip</c>.</summary>
    public required string Edition { get; set; }

    public SubscriptionStatus Status { get; set; }

    public DateTime SubscribedAt { get; set; }

    public DateTime? UnsubscribedAt { get; set; }

    public Subscriber? Subscriber { get; set; }
}

public enum SubscriptionStatus
{
    Active = 0,
    Unsubscribed = 1,

    /// <summary>Asked for, not yet confirmed by email (a new sign-up, or coming back after
    /// unsubscribing). Receives nothing; confirming makes it <see cref="Active"/>.</summary>
    Pending = 2,
}

/// <summary>
/// An address never to be mailed again. Keyed by a hash of the normalised address so that it
/// survives erasure of the subscriber's personal data.
/// </summary>
public sealed class Suppression
{
    public int Id { get; set; }

    /// <summary>Keyed hash of the normalised address (<c>AddressHasher</c>); unique.</summary>
    public required string EmailHash { get; set; }

    public SuppressionReason Reason { get; set; }

    public DateTime CreatedAt { get; set; }

    public string? Note { get; set; }
}

public enum SuppressionReason
{
    Manual = 0,
    HardBounce = 1,
    Complaint = 2,
    Erased = 3,

    /// <summary>Too many soft bounces (full mailbox, refusals) within the window: see <c>Bounces:SoftBounceLimit</c>.</summary>
    SoftBounces = 4,
}
