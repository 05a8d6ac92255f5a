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

    /// <summary>Compiles every template once so the first real send pays no compile cost.</summary>
    Task WarmUpAsync(CancellationToken cancellationToken = default);

    /// <summary>Renders the sign-up email (confirmation request, or "already subscribed") for one recipient.</summary>
    Task<RenderedEmail> RenderConfirmationAsync(ConfirmationEmail email, CancellationToken cancellationToken = default);
}

/// <summary>The per-recipient parts of an email. <see cref="CrisisLine"/> is the reader's region's
/// crisis-resources sentence; null keeps the general one (the brand's).</summary>
public sealed record PersonalFields(string? Name, string UnsubscribeUrl, string? PreferencesUrl = null, string? CrisisLine = null);

public sealed record RenderedEmail(string Subject, string Html, string Text);
