using System.ComponentModel.DataAnnotations;
using MailKit.Security;

namespace Newsletter.Worker.Bounces;

public enum MailboxProtocol
{
    Imap,
    Pop3,
}

/// <summary>
/// Reading what comes back: the bounce mailbox (off unless <see cref="Protocol"/> is set), what a soft
/// bounce costs, and the relays' webhooks (<see cref="Ses"/>, <see cref="Postmark"/>).
/// </summary>
public sealed class BouncesOptions : IValidatableObject
{
    public const string Section = "Bounces";

    /// <summary>Imap or Pop3; unset, the mailbox is not read.</summary>
    public MailboxProtocol? Protocol { get; set; }

    public string? Host { get; set; }

    /// <summary>0: the protocol's usual port for <see cref="Security"/> (993/143 for IMAP, 995/110 for POP3).</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>MailKit's names: Auto, None, StartTls, StartTlsWhenAvailable, SslOnConnect.</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    public string? UserName { get; set; }

    /// <summary>A secret: user-secrets or an environment variable (<c>Bounces__Password</c>), never appsettings.json.</summary>
    public string? Password { get; set; }

    /// <summary>The IMAP folder read (POP3 has only one).</summary>
    public string Folder { get; set; } = "INBOX";

    /// <summary>Where IMAP moves a message once what it taught is committed; created when missing.</summary>
    public string ProcessedFolder { get; set; } = "Processed";

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A mailbox that is down is tried again after the poll interval, doubling up to this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Larger messages are not downloaded: counted as unreadable and moved (or deleted) unread.</summary>
    [Range(16 * 1024, 100 * 1024 * 1024)]
    public int MaxMessageSize { get; set; } = 10 * 1024 * 1024;

    [Range(1, 100_000)]
    public int MaxMessagesPerPoll { get; set; } = 1000;

    /// <summary>This many soft bounces of one reader within <see cref="SoftBounceWindow"/> suppress the address.</summary>
    [Range(1, 1000)]
    public int SoftBounceLimit { get; set; } = 3;

    [Range(typeof(TimeSpan), "1.00:00:00", "365.00:00:00")]
    public TimeSpan SoftBounceWindow { get; set; } = TimeSpan.FromDays(14);

    public SesOptions Ses { get; set; } = new();

    public PostmarkOptions Postmark { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var problem in Ses.Problems().Concat(Postmark.Problems()))
        {
            yield return problem;
        }
        if (Protocol is null)
        {
            yield break;
        }
        foreach (var (value, name) in new[] { (Host, nameof(Host)), (UserName, nameof(UserName)), (Password, nameof(Password)) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                yield return new ValidationResult($"Bounces:{name} is required when Bounces:Protocol is set.", [name]);
            }
        }
        if (Protocol == MailboxProtocol.Imap && (string.IsNullOrWhiteSpace(ProcessedFolder) || string.Equals(ProcessedFolder, Folder, StringComparison.OrdinalIgnoreCase)))
        {
            yield return new ValidationResult("Bounces:ProcessedFolder must name a folder other than Bounces:Folder.", [nameof(ProcessedFolder)]);
        }
    }

    public int EffectivePort => Port != 0 ? Port : (Protocol, Security) switch
    {
        (MailboxProtocol.Pop3, SecureSocketOptions.SslOnConnect or SecureSocketOptions.Auto) => 995,
        (MailboxProtocol.Pop3, _) => 110,
        (_, SecureSocketOptions.SslOnConnect or SecureSocketOptions.Auto) => 993,
        _ => 143,
    };

    public string Describe() => Protocol is { } protocol
        ? $"{protocol.ToString().ToUpperInvariant()} {UserName}@{Host}:{EffectivePort} ({Security}){(protocol == MailboxProtocol.Imap ? $", folder {Folder} → {ProcessedFolder}" : "")}"
        : "off (Bounces:Protocol is not set)";
}

/// <summary>Amazon SES notifications through SNS, at <c>POST /webhooks/ses</c>.</summary>
public sealed class SesOptions
{
    public bool Enabled { get; set; }

    /// <summary>The SNS topics whose messages are accepted: a signature proves only that SNS sent it, not that it is our topic.</summary>
    public string[] TopicArns { get; set; } = [];

    /// <summary>Hosts a signing certificate (and a subscription confirmation) may come from; <c>*</c> matches one label.
    /// Empty by default, meaning <see cref="DefaultCertificateHosts"/>: binding would append to a default array, not replace it.</summary>
    public string[] CertificateHosts { get; set; } = [];

    public static readonly string[] DefaultCertificateHosts = ["sns.*.amazonaws.com"];

    /// <summary>The configured hosts, or Amazon's when none are.</summary>
    public string[] AllowedCertificateHosts =>
        CertificateHosts.Any(h => !string.IsNullOrWhiteSpace(h)) ? [.. CertificateHosts.Where(h => !string.IsNullOrWhiteSpace(h))] : DefaultCertificateHosts;

    /// <summary>A message published longer ago (or further ahead) than this is refused as a replay.</summary>
    public TimeSpan MaxMessageAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a downloaded signing certificate is used before it is fetched again.</summary>
    public TimeSpan CertificateCacheLifetime { get; set; } = TimeSpan.FromHours(12);

    internal IEnumerable<ValidationResult> Problems()
    {
        if (MaxMessageAge < TimeSpan.FromMinutes(1) || MaxMessageAge > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("Bounces:Ses:MaxMessageAge must be between 00:01:00 and 7.00:00:00.", [nameof(MaxMessageAge)]);
        }
        if (CertificateCacheLifetime < TimeSpan.Zero || CertificateCacheLifetime > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("Bounces:Ses:CertificateCacheLifetime must be between 00:00:00 and 7.00:00:00.", [nameof(CertificateCacheLifetime)]);
        }
        if (!Enabled)
        {
            yield break;
        }
        if (TopicArns.All(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult(
                "Bounces:Ses:TopicArns must name the SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME) when Bounces:Ses:Enabled is true.", [nameof(TopicArns)]);
        }
        foreach (var host in CertificateHosts.Where(h => !string.IsNullOrWhiteSpace(h) && !SnsHosts.IsValidPattern(h)))
        {
            yield return new ValidationResult($"Bounces:Ses:CertificateHosts: '{host}' is not a host name (a '*' may stand for one whole label).", [nameof(CertificateHosts)]);
        }
    }
}

/// <summary>Postmark's bounce and spam-complaint webhooks, at <c>POST /webhooks/postmark</c>.</summary>
public sealed class PostmarkOptions
{
    /// <summary>The password of the webhook's basic authentication (https://postmark:SECRET@…); unset, the webhook is off.</summary>
    public string? Secret { get; set; }

    /// <summary>Anyone who guesses the secret can suppress readers, so it must not be guessable.</summary>
    public const int MinSecretLength = 16;

    public bool Enabled => !string.IsNullOrEmpty(Secret);

    internal IEnumerable<ValidationResult> Problems()
    {
        if (Enabled && Secret!.Length < MinSecretLength)
        {
            yield return new ValidationResult(
                $"Bounces:Postmark:Secret must be at least {MinSecretLength} characters (a random one, e.g. from a password generator).", [nameof(Secret)]);
        }
    }
}
