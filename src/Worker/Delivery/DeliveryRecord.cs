namespace Newsletter.Worker.Delivery;

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

    public int Attempts { get; set; }

    /// <summary>Earliest time the next attempt may be made (retries back off).</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>The instance holding the claim, and until when. An expired lease is fair game.</summary>
    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    /// <summary>The server's last reply, or why the delivery was skipped or failed.</summary>
    public string? LastResult { get; set; }
}

public enum DeliveryStatus
{
    Pending = 0,
    Claimed = 1,
    Sent = 2,
    Failed = 3,

    /// <summary>Not sent on purpose: unsubscribed or suppressed after the snapshot.</summary>
    Skipped = 4,
}
