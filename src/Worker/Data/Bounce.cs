namespace Newsletter.Worker.Data;

/// <summary>
/// One message that came back (a bounce or complaint from the mailbox, a relay's notification, a saved
/// file): what it meant and what was done. Kept against the delivery it was about (publication and
/// reader), so an issue's results count bounces and a reader's record shows their history.
/// </summary>
public sealed class Bounce
{
    public const int KeyLength = 64;
    public const int MaxStatusLength = 16;
    public const int MaxDetailLength = 500;
    public const int MaxReasonLength = 300;

    public long Id { get; set; }

    /// <summary>SHA-256 (hex) of where it came from and its own id (Message-ID, a relay's event id), or of
    /// the message itself: unique, so the same report read twice counts once.</summary>
    public required string Key { get; set; }

    public DateTime ReceivedAt { get; set; }

    public BounceSource Source { get; set; }

    public BounceKind Kind { get; set; }

    public BounceOutcome Outcome { get; set; }

    /// <summary>The publication whose message bounced; null when the report did not say (a test send, a stranger).</summary>
    public int? PublicationId { get; set; }

    /// <summary>The reader it was about; null when nobody on the list was named. No foreign key: erasure deletes these rows itself.</summary>
    public int? SubscriberId { get; set; }

    /// <summary>The enhanced status code (5.1.1, 4.2.2…) when the report had one.</summary>
    public string? Status { get; set; }

    /// <summary>The remote server's words (Diagnostic-Code or the relay's description), kept only when a reader was named.</summary>
    public string? Detail { get; set; }

    /// <summary>Why it was read as it was, in the editor's words.</summary>
    public required string Reason { get; set; }
}

/// <summary>What a message that came back means for the list.</summary>
public enum BounceKind
{
    /// <summary>Nothing to act on: an auto-reply, a delay notice, a success report, or a message not recognised as a report.</summary>
    None = 0,

    /// <summary>A permanent failure about the recipient (5.1.x, 5.2.1 …): the address is suppressed.</summary>
    Hard = 1,

    /// <summary>A temporary failure (4.x.x), a full mailbox, or a permanent refusal not about the recipient: counted.</summary>
    Soft = 2,

    /// <summary>The reader reported the message as spam (an ARF feedback report, a relay's complaint).</summary>
    Complaint = 3,
}

public enum BounceSource
{
    Mailbox = 0,
    File = 1,
    AmazonSes = 2,
    Postmark = 3,
}

/// <summary>What reading a returned message did.</summary>
public enum BounceOutcome
{
    /// <summary>Not a bounce (auto-reply, delay, success, not a report): nothing changed.</summary>
    NothingToDo = 0,

    /// <summary>A soft bounce, counted towards <c>Bounces:SoftBounceLimit</c>.</summary>
    Counted = 1,

    /// <summary>The address was suppressed (hard bounce, or the soft-bounce limit reached).</summary>
    Suppressed = 2,

    /// <summary>A complaint: the address was suppressed and every subscription ended.</summary>
    Unsubscribed = 3,

    /// <summary>About an address that is not on the list (or a test send): counted, nobody changed.</summary>
    NotOnList = 4,

    /// <summary>Sent back to one of our VERP addresses whose token did not verify: counted, ignored.</summary>
    Forged = 5,

    /// <summary>Too large or not readable as a message: counted, ignored.</summary>
    Unreadable = 6,
}
