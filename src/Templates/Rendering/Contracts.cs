using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// Renders an edition's email. Rendering is split in two so the Razor work and CSS inlining
/// happen once per issue: <see cref="PrepareAsync"/> produces the email with placeholders for
/// the personal parts, and <see cref="PreparedEmail.Personalize"/> fills them per recipient.
/// </summary>
public interface IEmailRenderer
{
    Task<PreparedEmail> PrepareAsync(EditionEmail email, CancellationToken cancellationToken = default);

    /// <summary>The issue as a web page: the same templates, no personal link, a nameless greeting, and
    /// <paramref name="links"/> in place of the reader's unsubscribe and preferences links.</summary>
    Task<string> RenderWebPageAsync(EditionEmail email, WebPageLinks links, CancellationToken cancellationToken = default);

    /// <summary>Compiles every template once so the first real send pays no compile cost.</summary>
    Task WarmUpAsync(CancellationToken cancellationToken = default);

    /// <summary>Renders the sign-up email (confirmation request, or "already subscribed") for one recipient.</summary>
    Task<RenderedEmail> RenderConfirmationAsync(ConfirmationEmail email, CancellationToken cancellationToken = default);

    /// <summary>Renders the welcome a reader gets once, after confirming (<c>welcome.md</c> through the edition layout).</summary>
    Task<RenderedEmail> RenderWelcomeAsync(WelcomeEmail email, CancellationToken cancellationToken = default);

    /// <summary>
    /// Compiles every template and renders a sample of each with <paramref name="brand"/>, checking what
    /// every email must carry: what the service checks at start when the editor overrides templates, and
    /// what <c>newsletter templates check</c> reports.
    /// </summary>
    Task<TemplateCheckResult> CheckTemplatesAsync(NewsletterBrand brand, CancellationToken cancellationToken = default);
}

/// <summary>The per-recipient parts of an email. <see cref="CrisisLine"/> is the reader's region's
/// crisis-resources sentence; null keeps the general one (the brand's).</summary>
public sealed record PersonalFields(string? Name, string UnsubscribeUrl, string? PreferencesUrl = null, string? CrisisLine = null);

public sealed record RenderedEmail(string Subject, string Html, string Text);
