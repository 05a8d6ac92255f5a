namespace Newsletter.Templates.Models;

/// <summary>
/// What every edition's email carries. The concrete edition models below add the parts that
/// give each edition its shape. A model holds no per-recipient data: an issue is rendered once
/// and personalised per recipient (see <see cref="Rendering.PreparedEmail"/>).
/// </summary>
public abstract class EditionEmail
{
    /// <summary>Configuration key of the edition, e.g. <c>weekly-fact</c>.</summary>
    public required string EditionKey { get; init; }

    /// <summary>Display name of the edition, e.g. "Fact of the Week".</summary>
    public required string EditionName { get; init; }

    public required string Subject { get; init; }

    /// <summary>The heading at the top of the email; the subject is used when this is not set.</summary>
    public string? Headline { get; init; }

    /// <summary>The hidden preview line mail clients show after the subject.</summary>
    public string? Preheader { get; init; }

    /// <summary>The issue's body as the editor wrote it (Markdown, front matter removed).</summary>
    public required string BodyMarkdown { get; init; }

    /// <summary>The date the issue is published, in the edition's time zone.</summary>
    public required DateOnly IssueDate { get; init; }

    /// <summary>Footer and brand: configured once for the whole newsletter.</summary>
    public required NewsletterBrand Brand { get; init; }

    /// <summary>Where the issue can be read in a browser; the email links to it near the top. Null: no such link.</summary>
    public string? WebUrl { get; init; }
}

/// <summary>Weekly Fact of the Week: one researched fact, why it matters, and its sources.</summary>
public sealed class FactOfTheWeekEmail : EditionEmail
{
    /// <summary>Optional theme line shown above the fact, e.g. an awareness month.</summary>
    public string? Theme { get; init; }

    /// <summary>The fact itself in a sentence or two, shown set apart under the headline. The body follows it.</summary>
    public string? Fact { get; init; }

    public IReadOnlyList<SourceLink> Sources { get; init; } = [];
}

/// <summary>Weekly Tip of the Week: one small practice, with examples of what it can look like.</summary>
public sealed class TipOfTheWeekEmail : EditionEmail
{
    /// <summary>The tip itself in a sentence or two, shown set apart under the headline, above the examples.</summary>
    public string? Tip { get; init; }

    /// <summary>Short examples listed under the tip ("It could be: …").</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];
}

/// <summary>Monthly Spotlight: a feature story about one person, told with their permission.</summary>
public sealed class SpotlightEmail : EditionEmail
{
    /// <summary>e.g. "November 2026 Edition".</summary>
    public string? EditionLabel { get; init; }

    public string? FeaturedPerson { get; init; }

    /// <summary>Who wrote the piece and how it came about.</summary>
    public string? AuthorsNote { get; init; }

    /// <summary>Absolute https URL of the feature image.</summary>
    public string? ImageUrl { get; init; }

    /// <summary>Alt text for the feature image; required whenever <see cref="ImageUrl"/> is set.</summary>
    public string? ImageAlt { get; init; }
}

public sealed record SourceLink(string Title, string Url);

/// <summary>The newsletter-wide parts of every email, from configuration.</summary>
public sealed record NewsletterBrand
{
    public required string Name { get; init; }

    /// <summary>Absolute https base URL of the public site, without a trailing slash.</summary>
    public required string PublicBaseUrl { get; init; }

    public required string SignOff { get; init; }

    public required string Disclaimer { get; init; }

    public required string CrisisResources { get; init; }

    public required string PostalAddress { get; init; }

    /// <summary>BCP 47 language tag for the <c>lang</c> attribute.</summary>
    public string Language { get; init; } = "en";
}

/// <summary>
/// What an issue's web page shows instead of a reader's own links (see <see cref="Rendering.IEmailRenderer.RenderWebPageAsync"/>).
/// Links may be relative to the site, except <see cref="CanonicalUrl"/>.
/// </summary>
public sealed record WebPageLinks
{
    /// <summary>The page's public address (canonical link, Open Graph); null for a private page, which asks not to be indexed.</summary>
    public string? CanonicalUrl { get; init; }

    /// <summary>The sign-up form, offered at the foot of the page; null leaves the call to action out.</summary>
    public string? SubscribeUrl { get; init; }

    /// <summary>The edition's list of past issues, linked at the top; null leaves the link out.</summary>
    public string? ArchiveUrl { get; init; }
}
