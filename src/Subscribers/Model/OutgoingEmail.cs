namespace Newsletter.Subscribers.Model;

/// <summary>
/// One sign-up email waiting to be sent, being sent, or done with: the list's durable outbox.
/// Written in the same transaction as the sign-up or preferences change that calls for it, so a
/// crash can lose neither half; a sender claims due rows with a lease, and marks a row sent only
/// once the mail server has accepted the message. The row holds no copy of the address or name:
/// those are read from the subscriber when the email is sent, and erasure deletes the row.
/// </summary>
public sealed class OutgoingEmail
{
    public long Id { get; set; }

    public int SubscriberId { get; set; }

    public LifecycleEmailKind Kind { get; set; }

    public OutgoingEmailStatus Status { get; set; }

    /// <summary>The edition keys the email names, comma-separated.</summary>
    public required string Editions { get; set; }

    /// <summary>When the email was asked for (UTC, whole seconds): the time signed into its
    /// confirmation link, and the value its reservation wrote to <see cref="Subscriber.LastEmailedAt"/>.</summary>
    public DateTime IssuedAt { get; set; }

    /// <summary><see cref="Subscriber.LastEmailedAt"/> before this email took the slot; put back if
    /// the email is given up on (and no later email took the slot since).</summary>
    public DateTime? PreviousEmailedAt { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Attempts made at sending: the one the server accepted, and every refusal or connection failure before it.</summary>
    public int Attempts { get; set; }

    /// <summary>Earliest time the next attempt may be made (retries back off).</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>When the row got its outcome: sent (accepted by the server), failed, or cancelled.</summary>
    public DateTime? CompletedAt { get; set; }

    /// <summary>Why the last attempt did not succeed (a server reply or a connection error), or why the email was not sent.</summary>
    public string? LastError { get; set; }

    /// <summary>The lease token of the sender holding the row, and until when. An expired lease is fair game.</summary>
    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    public Subscriber? Subscriber { get; set; }
}

public enum LifecycleEmailKind
{
    /// <summary>"Please confirm": carries a signed, expiring confirmation link.</summary>
    ConfirmSubscription = 0,

    /// <summary>"You're already subscribed": sent instead when a confirmed reader asks again for
    /// editions they already get; carries their preferences link.</summary>
    AlreadySubscribed = 1,

    /// <summary>The welcome, once, after a reader confirms: their editions, when each arrives, the latest issues.</summary>
    Welcome = 2,
}

public enum OutgoingEmailStatus
{
    /// <summary>Waiting for a sender: the first attempt, or a retry at <see cref="OutgoingEmail.NextAttemptAt"/>.</summary>
    Pending = 0,

    /// <summary>Held by a sender's lease; returns to the pool when the lease expires.</summary>
    Sending = 1,

    /// <summary>The mail server accepted the message.</summary>
    Sent = 2,

    /// <summary>Refused permanently (5xx), or retried <c>Subscribers:EmailMaxAttempts</c> times without success.</summary>
    Failed = 3,

    /// <summary>Not sent on purpose: a newer email to the same reader replaced it, or the address was suppressed first.</summary>
    Cancelled = 4,
}
