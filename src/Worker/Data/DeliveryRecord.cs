namespace Newsletter.Worker.Data;

/// <summary>
/// One recipient of one publication; unique per (publication, subscriber). Created in the
/// publication's snapshot, claimed with a lease by a sender, and marked sent only once the SMTP
/// server has accepted the message (or the pickup file is in place).
/// </summary>
public sealed class DeliveryRecord
{
    public long Id { get; set; }

    public int PublicationId { get; set; }

    public int SubscriberId { get; set; }

    public DeliveryStatus Status { get; set; }

    /// <summary>Attempts the recipient's server answered with a temporary (4xx) or permanent (5xx)
    /// refusal, or accepted. Throttling and broken connections do not count: they are not about the recipient.</summary>
    public int Attempts { get; set; }

    /// <summary>Earliest time the next attempt may be made (retries back off).</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>When the first attempt was made; a temporary failure older than
    /// <c>Delivery:MaxRetryAge</c> becomes permanent.</summary>
    public DateTime? FirstAttemptAt { get; set; }

    /// <summary>The lease token of the claim holding the row, and until when. An expired lease is fair game.</summary>
    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>When the row got its outcome (sent, failed, skipped, cancelled, expired). On a
    /// <see cref="DeliveryStatus.Claimed"/> row, set means the server accepted the message and only
    /// the batch's filing as <see cref="DeliveryStatus.Sent"/> is outstanding (<see cref="OutcomeWriter.AcceptAsync"/>):
    /// such a row is sent for every purpose and is never claimed again.</summary>
    public DateTime? CompletedAt { get; set; }

    /// <summary>The SMTP reply code of the last attempt (250, 450, 550…); null when there was no reply.</summary>
    public int? ReplyCode { get; set; }

    /// <summary>The server's last reply, or why the delivery was skipped or failed.</summary>
    public string? LastResult { get; set; }

    /// <summary>When the reader left through this message's unsubscribe link: an issue's results count
    /// these, with no tracking beyond the link the reader chose to use.</summary>
    public DateTime? UnsubscribedAt { get; set; }
}

public enum DeliveryStatus
{
    /// <summary>Waiting for a sender (first attempt or a retry at <see cref="DeliveryRecord.NextAttemptAt"/>).</summary>
    Pending = 0,

    /// <summary>Held by a sender's lease; returns to the pool when the lease expires, unless the server
    /// already accepted it (<see cref="DeliveryRecord.CompletedAt"/> set), in which case it is filed as sent.</summary>
    Claimed = 1,

    /// <summary>The server accepted the message.</summary>
    Sent = 2,

    /// <summary>Refused permanently, or retried past the attempt or age limit.</summary>
    Failed = 3,

    /// <summary>Not sent on purpose: unsubscribed or suppressed after the snapshot.</summary>
    Skipped = 4,

    /// <summary>Not sent: the publication was cancelled first.</summary>
    Cancelled = 5,

    /// <summary>Not sent: the publication went stale (older than the edition's MaxPublicationAge) first.</summary>
    Expired = 6,
}
