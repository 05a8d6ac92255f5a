using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Configuration;

/// <summary>The newsletter as a whole: its name, public site and the footer every email carries.</summary>
public sealed class NewsletterOptions
{
    public const string Section = "Newsletter";

    [Required]
    public string Name { get; set; } = "";

    /// <summary>Base of every link in an email (unsubscribe, preferences). Absolute, https in production.</summary>
    [Required]
    public string PublicBaseUrl { get; set; } = "";

    [Required]
    public string SignOff { get; set; } = "";

    [Required]
    public string Disclaimer { get; set; } = "";

    /// <summary>The general crisis line: for readers who never chose a region, previews and test sends,
    /// and everyone when the region table (<see cref="CrisisRegionOptions"/>) is off.</summary>
    [Required]
    public string CrisisResources { get; set; } = "";

    [Required]
    public string PostalAddress { get; set; } = "";

    public string Language { get; set; } = "en";

    /// <summary>The domain in Message-ID headers; defaults to the host of <see cref="PublicBaseUrl"/>.</summary>
    public string? MessageIdDomain { get; set; }

    public string BaseUrl => PublicBaseUrl.TrimEnd('/');
}
