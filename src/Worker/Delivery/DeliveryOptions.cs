using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Delivery;

public enum TransportKind
{
    /// <summary>One .eml file per message in a folder: the embedded default, and handy for review.</summary>
    Pickup,

    /// <summary>A real SMTP server, through MailKit.</summary>
    Smtp,
}

public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    public TransportKind Transport { get; set; } = TransportKind.Pickup;

    [Required]
    public string PickupDirectory { get; set; } = "data/pickup";

    /// <summary>How long a message file stays in the pickup folder (it holds a reader's address and live
    /// links); the running service deletes older ones every hour. Zero keeps them all.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan PickupRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Parallel SMTP connections per process (shared by every publication it sends), each reused across messages.</summary>
    [Range(1, 64)]
    public int Connections { get; set; } = 2;

    /// <summary>Ceiling on messages per second for the whole process, across all connections; 0 means none.</summary>
    [Range(0, 1_000_000)]
    public double MessagesPerSecond { get; set; }

    /// <summary>Deliveries claimed per round trip to the database, split across the connections
    /// (each sender claims BatchSize / Connections at a time; small lists are spread evenly).</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>How long a claim is held; a crashed worker's claims return to the pool after it.
    /// A live sender renews its claims, so this only bounds how long a crashed sender's share waits.
    /// Keep it well above <c>Smtp:Timeout</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Attempts per recipient before a temporary (4xx) failure becomes permanent.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How long after its first attempt a recipient's temporary failures are retried at most.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan MaxRetryAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>First retry delay after a temporary failure; doubles per attempt, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between retries (and the longest throttling pause).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>First pause after the server says to slow down (421, or an x.7.x status); doubles
    /// while it keeps saying so, up to <see cref="MaxRetryDelay"/>. The publication also drops to
    /// half its connections, and gets one back per <see cref="ThrottleRecovery"/> without complaint.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ThrottleDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Quiet time after which a throttled publication gets one more connection back.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ThrottleRecovery { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First wait after the SMTP server cannot be reached; doubles per failure, up to a minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Permanent refusals (5xx other than 5.1.x) in a row, across issues, after which an
    /// address is suppressed. A 5.1.x ("no such mailbox") suppresses at once. 0: never.</summary>
    [Range(0, 1000)]
    public int SuppressAfterPermanentFailures { get; set; } = 3;

    /// <summary>Delivery errors a publication may have before it pauses (see <c>publications resume</c>). 0: no limit.</summary>
    [Range(0, int.MaxValue)]
    public int ErrorBudget { get; set; } = 1000;

    /// <summary>What each recorded outcome survives before the next message goes out on that connection.</summary>
    public OutcomeDurability OutcomeDurability { get; set; } = OutcomeDurability.ProcessCrash;

    /// <summary>How often progress of a send is logged.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Body text quoted-printable encoded once per issue, per recipient only the personal
    /// values (<see cref="EncodedEmail"/>); false: MimeKit encodes each recipient's whole body.</summary>
    public bool PreEncodeBodies { get; set; } = true;

    /// <summary>How long a finished publication keeps a delivery row per recipient; after that its rows
    /// are folded into the publication's counts and each reader's totals (<see cref="DeliveryCompaction"/>).
    /// 0: keep them for ever.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan KeepDeliveryRowsFor { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>
/// How durable a delivery's recorded outcome is before the next message goes out. SQL Server
/// commits are always durable; the choice matters for SQLite.
/// </summary>
public enum OutcomeDurability
{
    /// <summary>Survives the process being killed (SQLite <c>synchronous=NORMAL</c> in WAL mode): the
    /// duplicate bound holds for any crash of the service. An operating-system crash or power loss
    /// may undo the last outcomes written since SQLite's last checkpoint, and those recipients would
    /// be mailed again.</summary>
    ProcessCrash,

    /// <summary>Survives power loss (SQLite <c>synchronous=FULL</c>: an fsync per outcome). Much
    /// slower on SQLite: about 700 outcomes a second on the benchmark machine's disk.</summary>
    PowerLoss,
}
