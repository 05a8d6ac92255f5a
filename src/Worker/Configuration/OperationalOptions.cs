using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Configuration;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
}

/// <summary>Which database, and whether the service brings its schema up to date at start.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations at start. Turn off where a DBA applies the SQL script.</summary>
    public bool MigrateOnStart { get; set; } = true;
}

public sealed class SchedulingOptions
{
    public const string Section = "Scheduling";

    /// <summary>Run the edition schedules in this process. Off for one-shot commands.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A slot missed while the service was down is still published on start when it is
    /// at most this old; older ones are recorded as missed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "31.00:00:00")]
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromHours(6);
}

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

    /// <summary>Parallel SMTP connections, each reused across messages.</summary>
    [Range(1, 64)]
    public int Connections { get; set; } = 2;

    /// <summary>Deliveries claimed per round trip to the database.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>How long a claim is held; a crashed worker's claims return to the pool after it.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Attempts per recipient before a temporary failure becomes permanent.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the running service logs progress of a send.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(10);
}

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
    Auto,
}

public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string Host { get; set; } = "localhost";

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
}
