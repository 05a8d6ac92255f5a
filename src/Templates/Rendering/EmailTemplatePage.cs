using System.Dynamic;
using Newsletter.Templates.Models;
using RazorLight;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// Base class of the email templates (<c>@inherits EmailTemplatePage&lt;FactOfTheWeekEmail&gt;</c>). Gives
/// templates typed access to what the renderer computed for the issue (<see cref="Email"/>) without
/// putting per-issue extras on the edition models.
/// </summary>
/// <typeparam name="TModel">The edition model, or <see cref="EditionEmail"/> for the layout.</typeparam>
public abstract class EmailTemplatePage<TModel> : TemplatePage<TModel>
{
    internal const string ViewBagKey = "Email";

    /// <summary>The issue's rendered body, headline, preheader and personal slots.</summary>
    protected EmailPageData Email =>
        ((IDictionary<string, object?>)PageContext.ViewBag).TryGetValue(ViewBagKey, out var value) && value is EmailPageData data
            ? data
            : throw new InvalidOperationException("The email template was rendered without its page data.");

    /// <summary>A configured multi-line value (sign-off, postal address) as its non-empty lines.</summary>
    protected static IReadOnlyList<string> Lines(string? value) => TemplateText.Lines(value);

    /// <summary>A web page's description, canonical link and Open Graph tags, encoded; empty for an email.</summary>
    protected string WebHead(EditionEmail model)
    {
        if (Email.Web is not { } web)
        {
            return "";
        }
        var e = (string? text) => System.Net.WebUtility.HtmlEncode(text ?? "");
        var head = $"<meta name=\"description\" content=\"{e(Email.Preheader)}\">\n";
        if (web.CanonicalUrl is not { } canonical)
        {
            return head + "<meta name=\"robots\" content=\"noindex\">\n";
        }
        return head + $"""
            <link rel="canonical" href="{e(canonical)}">
            <meta property="og:type" content="article">
            <meta property="og:site_name" content="{e(model.Brand.Name)}">
            <meta property="og:title" content="{e(model.Subject)}">
            <meta property="og:description" content="{e(Email.Preheader)}">
            <meta property="og:url" content="{e(canonical)}">

            """;
    }

    internal static ExpandoObject ViewBagFor(EmailPageData data)
    {
        var bag = new ExpandoObject();
        ((IDictionary<string, object?>)bag)[ViewBagKey] = data;
        return bag;
    }
}

/// <summary>What the renderer works out for one issue and hands to the templates.</summary>
public sealed class EmailPageData
{
    /// <summary>Shown as the email's heading: the model's headline, or the subject when there is none.</summary>
    public required string Headline { get; init; }

    /// <summary>The issue body, Markdown already turned into safe HTML. Written with <c>@Raw</c>.</summary>
    public required string BodyHtml { get; init; }

    /// <summary>The hidden preview text.</summary>
    public required string Preheader { get; init; }

    /// <summary>The issue date as a reader would write it, in the brand's language.</summary>
    public required string IssueDate { get; init; }

    /// <summary>Slot for the greeting ("Hi Sam,"). Written with <c>@Raw</c>.</summary>
    public required string Greeting { get; init; }

    /// <summary>Slot for the recipient's unsubscribe link, used as an <c>href</c>. Written with <c>@Raw</c>.</summary>
    public required string UnsubscribeUrl { get; init; }

    /// <summary>Slot for the recipient's preferences link; only valid between <see cref="IfPreferences"/> and <see cref="EndPreferences"/>.</summary>
    public required string PreferencesUrl { get; init; }

    /// <summary>Opens the part left out for recipients without a preferences link (an HTML comment marker).</summary>
    public required string IfPreferences { get; init; }

    /// <summary>Closes the part opened by <see cref="IfPreferences"/>.</summary>
    public required string EndPreferences { get; init; }

    /// <summary>Set when the issue is rendered as a web page rather than an email.</summary>
    public WebPageLinks? Web { get; init; }

    /// <summary>Slot for the recipient's crisis-resources sentence (their region's). Written with <c>@Raw</c>.</summary>
    public required string CrisisLine { get; init; }
}
