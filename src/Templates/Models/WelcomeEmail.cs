namespace Newsletter.Templates.Models;

/// <summary>
/// The welcome a reader gets once, after confirming: what they chose, when each edition arrives, the
/// latest issue of each, and how to change, pause or leave. Its words are <c>welcome.md</c> (the editor's,
/// or the built-in one); its frame is the edition layout, so it carries the same footer.
/// </summary>
public sealed class WelcomeEmail
{
    public required NewsletterBrand Brand { get; init; }

    /// <summary>The reader's name as they gave it, if they did.</summary>
    public string? Name { get; init; }

    /// <summary>The editions the reader chose, in the order to show them.</summary>
    public required IReadOnlyList<WelcomeEdition> Editions { get; init; }

    /// <summary>Absolute http(s) URL of the reader's preferences page (change editions, pause).</summary>
    public required string PreferencesUrl { get; init; }

    /// <summary>Absolute http(s) URL of the reader's unsubscribe page.</summary>
    public required string UnsubscribeUrl { get; init; }

    /// <summary>The crisis-resources line for this reader; the newsletter's own when not set.</summary>
    public string? CrisisLine { get; init; }

    /// <summary>The day the welcome is written, in the reader's terms (shown in the header).</summary>
    public required DateOnly Date { get; init; }
}

/// <summary>One chosen edition: its name, when it arrives in words ("every Thursday morning…"), and its
/// latest issue in the public archive, if it has one.</summary>
public sealed record WelcomeEdition(string Name, string Arrives, WelcomeIssueLink? Latest = null);

/// <summary>An issue in the public archive: its subject and absolute address.</summary>
public sealed record WelcomeIssueLink(string Title, string Url);
