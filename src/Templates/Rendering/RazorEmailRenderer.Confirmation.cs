using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

public sealed partial class RazorEmailRenderer
{
    /// <summary>Template key of the sign-up email; compiled with the others at warm-up.</summary>
    internal const string ConfirmationKey = "Confirmation";

    /// <summary>Renders the sign-up email for one recipient (it is personal through and through, so
    /// there is no prepare-once step): subject, HTML with CSS inlined, and text.</summary>
    public async Task<RenderedEmail> RenderConfirmationAsync(ConfirmationEmail email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        if (!EmailMarkdown.IsAbsoluteWebUrl(email.ActionUrl))
        {
            throw new ArgumentException("The link in a sign-up email must be an absolute http(s) address.", nameof(email));
        }
        if (email.LinkLifetimeDays < 1)
        {
            throw new ArgumentException("A confirmation link must work for at least a day.", nameof(email));
        }

        await CompileAll.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var template = await Engine.CompileTemplateAsync(ConfirmationKey).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var razorHtml = await Engine.RenderTemplateAsync(template, email).ConfigureAwait(false);

        using var preMailer = new PreMailer.Net.PreMailer(razorHtml);
        var inlined = preMailer.MoveCssInline(removeStyleElements: true, removeComments: true, preserveMediaQueries: true);
        return new RenderedEmail(ConfirmationCopy.Subject(email), inlined.Html, ConfirmationCopy.PlainText(email));
    }
}
