namespace Newsletter.Templates.Models;

public enum ConfirmationKind
{
    /// <summary>"Please confirm": the link leads to the confirmation page.</summary>
    ConfirmSubscription,

    /// <summary>"You're already on the list": the link leads to the reader's preferences.</summary>
    AlreadySubscribed,
}

/// <summary>
/// The transactional email of the sign-up: a confirmation request, or a note to someone who asked
/// again for editions they already get. No newsletter content; one link; rendered per recipient.
/// </summary>
public sealed class ConfirmationEmail
{
    public required ConfirmationKind Kind { get; init; }

    public required NewsletterBrand Brand { get; init; }

    /// <summary>The reader's name as they gave it, if they did.</summary>
    public string? Name { get; init; }

    /// <summary>Display names of the editions this email is about.</summary>
    public required IReadOnlyList<string> EditionNames { get; init; }

    /// <summary>Absolute http(s) URL: the confirmation page or the preferences page.</summary>
    public required string ActionUrl { get; init; }

    /// <summary>How many days the confirmation link works.</summary>
    public int LinkLifetimeDays { get; init; } = 7;
}
