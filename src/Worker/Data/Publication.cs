namespace Newsletter.Worker.Data;

/// <summary>
/// What happened at one slot of one edition. Unique per (edition, slot), ever: a second fire for
/// the same slot, from a restart, a doubled trigger or another instance, finds this row and does nothing.
/// </summary>
public sealed class Publication
{
    public int Id { get; set; }

    public required string Edition { get; set; }

    /// <summary>The scheduled instant (UTC). For a send-now, the moment it was asked for.</summary>
    public DateTime SlotUtc { get; set; }

    public PublicationKind Kind { get; set; }

    public PublicationStatus Status { get; set; }

    /// <summary>The issue published; null when the slot was skipped or missed.</summary>
    public int? IssueId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    /// <summary>Recipients in the snapshot taken when the publication was created.</summary>
    public int RecipientCount { get; set; }

    /// <summary>Why the publication is skipped, missed, paused or stopped, in the editor's words.</summary>
    public string? Note { get; set; }

    /// <summary>Delivery errors (refusals, throttling, lost or refused connections) counted against
    /// <c>Delivery:ErrorBudget</c>; past it the publication pauses. Resuming starts a fresh count.</summary>
    public int ErrorCount { get; set; }

    /// <summary>When the editors were sent the publication's summary; null until it finished and they were.</summary>
    public DateTime? SummarySentAt { get; set; }

    /// <summary>When its delivery rows began to be folded into the counts below and into readers'
    /// <see cref="DeliveryTotal"/>s; from then on its progress and results are read from these columns.</summary>
    public DateTime? CompactedAt { get; set; }

    public int CompactedSent { get; set; }

    public int CompactedFailed { get; set; }

    public int CompactedSkipped { get; set; }

    /// <summary>Not sent because the publication was cancelled or went stale.</summary>
    public int CompactedUnsent { get; set; }

    public int CompactedUnsubscribed { get; set; }
}

public enum PublicationKind
{
    Scheduled = 0,
    CatchUp = 1,
    SendNow = 2,
}

public enum PublicationStatus
{
    /// <summary>Deliveries are going out.</summary>
    Sending = 0,

    /// <summary>Every recipient has an outcome.</summary>
    Completed = 1,

    /// <summary>The slot came and the edition's queue was empty.</summary>
    Skipped = 2,

    /// <summary>The service was down at the slot and came back after the catch-up window.</summary>
    Missed = 3,

    /// <summary>Stopped for now, by the editor or because errors passed the budget; resume to carry on.</summary>
    Paused = 4,

    /// <summary>Stopped for good by the editor; deliveries not yet made are marked cancelled.</summary>
    Cancelled = 5,

    /// <summary>Still unfinished when it became older than the edition's MaxPublicationAge: stopped
    /// rather than mail people stale news; deliveries not yet made are marked expired.</summary>
    Stale = 6,
}
