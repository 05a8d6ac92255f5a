using System.Net;
using System.Text;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// One issue rendered once — Razor run, CSS inlined — with the personal parts left as slots.
/// <see cref="Personalize"/> fills the slots for one recipient by appending precomputed literal
/// segments and the recipient's values: no Razor, no regex, no re-parse. Immutable, so every sender
/// thread can share one instance.
/// </summary>
public sealed class PreparedEmail
{
    /// <summary>Gmail clips messages whose HTML is larger than about 102 KB, hiding the footer (and its unsubscribe link).</summary>
    public const int GmailClipBytes = 102 * 1024;

    private readonly SlottedText _html;
    private readonly SlottedText _text;
    private readonly string _crisisLine;

    internal PreparedEmail(string editionKey, string subject, SlottedText html, SlottedText text, string typicalBaseUrl, string crisisLine)
    {
        EditionKey = editionKey;
        Subject = subject;
        _html = html;
        _text = text;
        _crisisLine = crisisLine;

        var typical = Personalize(TypicalFields(typicalBaseUrl));
        HtmlByteCount = Encoding.UTF8.GetByteCount(typical.Html);
        TextByteCount = Encoding.UTF8.GetByteCount(typical.Text);
    }

    /// <summary>Configuration key of the edition this issue belongs to.</summary>
    public string EditionKey { get; }

    /// <summary>The subject line (the same for every recipient).</summary>
    public string Subject { get; }

    /// <summary>UTF-8 size of the HTML part, personalised with typical values (name, unsubscribe and preferences links).</summary>
    public int HtmlByteCount { get; }

    /// <summary>UTF-8 size of the text part, personalised with typical values.</summary>
    public int TextByteCount { get; }

    /// <summary>True when Gmail would clip the HTML (see <see cref="GmailClipBytes"/>); such an issue should not be sent.</summary>
    public bool IsOverGmailClip => HtmlByteCount > GmailClipBytes;

    /// <summary>The HTML part's segments, in order: literal text and personal slots (see <see cref="Personalize(PersonalFields, IEmailPartWriter, IEmailPartWriter)"/>).</summary>
    public IReadOnlyList<EmailSegment> HtmlSegments => _html.Segments;

    /// <summary>The text part's segments, in order: literal text and personal slots.</summary>
    public IReadOnlyList<EmailSegment> TextSegments => _text.Segments;

    /// <summary>
    /// The email for one recipient: greeting with their name (or a warm nameless one), their own
    /// unsubscribe link, their preferences link when they have one (otherwise that line is left out), and
    /// their region's crisis line (or the general one). Values are HTML-encoded in the HTML part
    /// and left as they are in the text part.
    /// </summary>
    /// <exception cref="ArgumentException">A link is not an absolute http(s) address.</exception>
    public RenderedEmail Personalize(PersonalFields fields)
    {
        var (html, text) = Values(fields);
        return new RenderedEmail(
            Subject,
            _html.Fill(html.Greeting, html.UnsubscribeUrl, html.PreferencesUrl, html.CrisisLine),
            _text.Fill(text.Greeting, text.UnsubscribeUrl, text.PreferencesUrl, text.CrisisLine));
    }

    /// <summary>
    /// The same email as <see cref="Personalize(PersonalFields)"/>, same rules, handed segment by segment
    /// to a writer per part (literal segments by their index in <see cref="HtmlSegments"/> and
    /// <see cref="TextSegments"/>), so a caller can put together its own form of the parts — e.g. from
    /// literal segments it encoded once per issue — without assembling the strings first.
    /// </summary>
    /// <exception cref="ArgumentException">A link is not an absolute http(s) address.</exception>
    public void Personalize(PersonalFields fields, IEmailPartWriter html, IEmailPartWriter text)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(text);
        var (htmlValues, textValues) = Values(fields);
        _html.Fill(html, htmlValues.Greeting, htmlValues.UnsubscribeUrl, htmlValues.PreferencesUrl, htmlValues.CrisisLine);
        _text.Fill(text, textValues.Greeting, textValues.UnsubscribeUrl, textValues.PreferencesUrl, textValues.CrisisLine);
    }

    private readonly record struct SlotValues(string Greeting, string UnsubscribeUrl, string? PreferencesUrl, string CrisisLine);

    /// <summary>One recipient's values, checked, as each part shows them: HTML-encoded for the HTML part, as written for the text.</summary>
    private (SlotValues Html, SlotValues Text) Values(PersonalFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (!EmailMarkdown.IsAbsoluteWebUrl(fields.UnsubscribeUrl))
        {
            throw new ArgumentException("The unsubscribe link must be an absolute http(s) address.", nameof(fields));
        }

        if (fields.PreferencesUrl is not null && !EmailMarkdown.IsAbsoluteWebUrl(fields.PreferencesUrl))
        {
            throw new ArgumentException("The preferences link must be an absolute http(s) address.", nameof(fields));
        }

        var greeting = Greeting(fields.Name);
        var crisis = CleanName(fields.CrisisLine) is { Length: > 0 } own ? own : _crisisLine;
        var html = new SlotValues(
            WebUtility.HtmlEncode(greeting),
            WebUtility.HtmlEncode(fields.UnsubscribeUrl),
            fields.PreferencesUrl is null ? null : WebUtility.HtmlEncode(fields.PreferencesUrl),
            WebUtility.HtmlEncode(crisis));
        // The text part's footer is wrapped like the rest of the letter.
        var crisisText = string.Join('\n', EmailMarkdown.Wrap(crisis, EmailMarkdown.TextWidth));
        return (html, new SlotValues(greeting, fields.UnsubscribeUrl, fields.PreferencesUrl, crisisText));
    }

    /// <summary>"Hi Sam," — or, without a name, a greeting that still sounds like a person wrote it.</summary>
    internal static string Greeting(string? name)
    {
        var clean = CleanName(name);
        return clean.Length == 0 ? "Hi there," : $"Hi {clean},";
    }

    /// <summary>A name (or a crisis line) is one line of text: control characters and runs of whitespace become single spaces.</summary>
    private static string CleanName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "";
        }

        var builder = new StringBuilder(name.Length);
        var pendingSpace = false;
        foreach (var c in name.Trim())
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace && builder.Length > 0)
            {
                builder.Append(' ');
            }

            pendingSpace = false;
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Links about as long as the signed-token links the Subscribers module produces.</summary>
    private static PersonalFields TypicalFields(string baseUrl)
    {
        var token = new string('x', 120);
        return new PersonalFields(
            Name: "Alexandra Whitfield",
            UnsubscribeUrl: $"{baseUrl}/unsubscribe?t={token}",
            PreferencesUrl: $"{baseUrl}/preferences?t={token}");
    }
}
