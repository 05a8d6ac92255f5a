using System.Net;
using Markdig;
using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

public sealed partial class RazorEmailRenderer
{
    /// <summary>Nobody in particular reads a web page: it greets as an email to a reader without a name does.</summary>
    public async Task<string> RenderWebPageAsync(EditionEmail email, WebPageLinks links, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(links);
        var key = TemplateKeys.TryGetValue(email.GetType(), out var found)
            ? found
            : throw new ArgumentException($"There is no email template for {email.GetType().Name}.", nameof(email));
        Validate(email);

        await CompileAll.Value.WaitAsync(cancellationToken).ConfigureAwait(false);

        var body = EmailMarkdown.Parse(email.BodyMarkdown);
        var bodyText = EmailMarkdown.ToPlainText(body, EmailMarkdown.TextWidth);
        var headline = string.IsNullOrWhiteSpace(email.Headline) ? OneLine(email.Subject) : email.Headline.Trim();
        var page = new EmailPageData
        {
            Headline = headline,
            BodyHtml = Markdown.ToHtml(body, EmailMarkdown.Pipeline),
            Preheader = Preheader(email, bodyText, headline),
            IssueDate = email.IssueDate.ToString("D", CultureFor(email.Brand.Language)),
            Greeting = WebUtility.HtmlEncode(PreparedEmail.Greeting(null)),
            // The footer's reader links are not written on a web page; these are never shown.
            UnsubscribeUrl = "",
            PreferencesUrl = "",
            IfPreferences = "",
            EndPreferences = "",
            // A public page has no reader, so no region: the general line.
            CrisisLine = WebUtility.HtmlEncode(OneLine(email.Brand.CrisisResources)),
            Web = links,
        };
        return await RenderInlinedAsync(key, email, page, cancellationToken).ConfigureAwait(false);
    }
}
