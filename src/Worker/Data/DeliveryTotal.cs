namespace Newsletter.Worker.Data;

/// <summary>
/// What a reader was sent of one edition in publications whose delivery rows were compacted
/// (<c>Delivery:KeepDeliveryRowsFor</c>): one row per reader and edition however long the list lives,
/// so their data export can still say what they received after the rows themselves are gone.
/// </summary>
public sealed class DeliveryTotal
{
    public int SubscriberId { get; set; }

    public required string Edition { get; set; }

    /// <summary>Messages the server accepted.</summary>
    public int Delivered { get; set; }

    /// <summary>Messages refused for good or retried past the limits.</summary>
    public int Failed { get; set; }

    /// <summary>The slots of the earliest and latest compacted publication that reached the reader.</summary>
    public DateTime FirstSlotUtc { get; set; }

    public DateTime LastSlotUtc { get; set; }
}
