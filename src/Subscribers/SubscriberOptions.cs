using System.ComponentModel.DataAnnotations;

namespace Newsletter.Subscribers;

/// <summary>
/// How the list treats sign-ups: link lifetimes, the purge of unconfirmed sign-ups, how often one
/// address may be emailed, the consent text, and the public endpoints' rate limits.
/// Bound from the <c>Subscribers</c> section and validated at start.
/// </summary>
public sealed class SubscriberOptions : IValidatableObject
{
    public const string Section = "Subscribers";

    /// <summary>Days a confirmation link stays valid. The expired page offers a new link.</summary>
    [Range(1, 90)]
    public int ConfirmationLinkLifetimeDays { get; set; } = 7;

    /// <summary>Unconfirmed sign-ups older than this many days are deleted (and unconfirmed returns
    /// to an edition are dropped). At least <see cref="ConfirmationLinkLifetimeDays"/>.</summary>
    [Range(1, 3650)]
    public int PurgeUnconfirmedAfterDays { get; set; } = 30;

    /// <summary>How often the purge runs in the service.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>At most one lifecycle email (confirmation or "already subscribed") per address per
    /// this interval, however often the form is sent.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan EmailInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts at each sign-up email before it is given up on. A temporary refusal (4xx)
    /// or an unreachable mail server is retried after 1, 5 and 25 minutes, about 2 hours, then
    /// about 10 hours; a permanent refusal (5xx) is not retried. Either way, giving up hands the
    /// address its email slot back, so the reader can simply ask again.</summary>
    [Range(1, 20)]
    public int EmailMaxAttempts { get; set; } = 6;

    /// <summary>How often the sign-up email sender looks for due emails when nothing woke it: emails
    /// written by another process, retries coming due. A sign-up in the same process wakes it at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan EmailPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The consent text shown beside the sign-up form.</summary>
    [Required]
    [MaxLength(1000)]
    public string ConsentText { get; set; } =
        "We'll email you the editions you choose, and nothing else. Every email has a link to change your editions or unsubscribe in one click. We never share your address.";

    /// <summary>Recorded with every consent: change it whenever <see cref="ConsentText"/> changes.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,40}$", ErrorMessage = "Subscribers:ConsentTextVersion: letters, digits, '.', '_' and '-' only, at most 40")]
    public string ConsentTextVersion { get; set; } = "2026-11";

    /// <summary>From header of confirmation emails; empty means the first edition's From.</summary>
    public string? ConfirmationFrom { get; set; }

    public RateLimitOptions RateLimit { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PurgeUnconfirmedAfterDays < ConfirmationLinkLifetimeDays)
        {
            yield return new ValidationResult(
                $"{Section}:PurgeUnconfirmedAfterDays ({PurgeUnconfirmedAfterDays}) must be at least {Section}:ConfirmationLinkLifetimeDays ({ConfirmationLinkLifetimeDays}), or valid links would point at deleted sign-ups",
                [nameof(PurgeUnconfirmedAfterDays)]);
        }
        if (RateLimit is null)
        {
            yield return new ValidationResult($"{Section}:RateLimit is required", [nameof(RateLimit)]);
        }
        else
        {
            foreach (var result in RateLimit.Check())
            {
                yield return result;
            }
        }
    }
}

/// <summary>Per-IP limits on the public endpoints (fixed windows).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sign-up and "send me a new link" requests per IP address per <see cref="SubscribeWindow"/>.</summary>
    public int SubscribePermitLimit { get; set; } = 10;

    public TimeSpan SubscribeWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Page views and link actions (confirm, preferences, unsubscribe) per IP per <see cref="LinksWindow"/>.
    /// Generous: mail providers send one-click unsubscribes for many people from few addresses.</summary>
    public int LinksPermitLimit { get; set; } = 300;

    public TimeSpan LinksWindow { get; set; } = TimeSpan.FromMinutes(1);

    internal IEnumerable<ValidationResult> Check()
    {
        const string at = $"{SubscriberOptions.Section}:RateLimit";
        if (SubscribePermitLimit is < 1 or > 100_000)
        {
            yield return new ValidationResult($"{at}:SubscribePermitLimit must be between 1 and 100000");
        }
        if (LinksPermitLimit is < 1 or > 1_000_000)
        {
            yield return new ValidationResult($"{at}:LinksPermitLimit must be between 1 and 1000000");
        }
        if (SubscribeWindow <= TimeSpan.Zero || SubscribeWindow > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult($"{at}:SubscribeWindow must be between 00:00:01 and 1.00:00:00");
        }
        if (LinksWindow <= TimeSpan.Zero || LinksWindow > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult($"{at}:LinksWindow must be between 00:00:01 and 1.00:00:00");
        }
    }
}
