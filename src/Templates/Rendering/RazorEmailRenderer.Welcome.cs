using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>The welcome as the renderer sees it: an edition-like email, so it goes through the same layout,
/// CSS inlining, text part and personal slots as every issue.</summary>
internal sealed class WelcomeLetter : EditionEmail
{
    public const string Key = "welcome";
}

public sealed partial class RazorEmailRenderer
{
    /// <summary>Template key of the welcome's frame (<c>Views/Welcome.cshtml</c>); its words are <c>welcome.md</c>.</summary>
    internal const string WelcomeKey = "Welcome";

    /// <summary>Renders the welcome for one reader: <c>welcome.md</c> filled in, through the edition layout.</summary>
    public async Task<RenderedEmail> RenderWelcomeAsync(WelcomeEmail email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        if (!EmailMarkdown.IsAbsoluteWebUrl(email.PreferencesUrl) || !EmailMarkdown.IsAbsoluteWebUrl(email.UnsubscribeUrl))
        {
            throw new ArgumentException("The links in a welcome email must be absolute http(s) addresses.", nameof(email));
        }
        var (subject, preheader, headline, markdown) = WelcomeText.Fill(Templates.WelcomeMarkdown, email);
        var names = email.Editions.Select(e => e.Name.Trim()).Where(n => n.Length > 0).ToList();
        var letter = new WelcomeLetter
        {
            EditionKey = WelcomeLetter.Key,
            // The footer says what the reader subscribed to: the editions they chose.
            EditionName = names.Count switch
            {
                0 => email.Brand.Name,
                1 => names[0],
                _ => string.Join(", ", names[..^1]) + " and " + names[^1],
            },
            Subject = subject,
            Preheader = preheader,
            Headline = headline,
            BodyMarkdown = markdown,
            IssueDate = email.Date,
            Brand = email.Brand,
        };
        var prepared = await PrepareAsync(letter, cancellationToken).ConfigureAwait(false);
        return prepared.Personalize(new PersonalFields(email.Name, email.UnsubscribeUrl, email.PreferencesUrl));
    }
}
