using System.Globalization;
using Markdig;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Models;
using RazorLight;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// Renders an edition's email with RazorLight, once per issue: Markdown → HTML, Razor, CSS inlined with
/// PreMailer.Net, then split into literal segments and personal slots (<see cref="PreparedEmail"/>).
/// </summary>
/// <remarks>
/// RazorLight compiles each template key into an assembly that is never unloaded, so there is one engine per
/// set of templates per process (<see cref="TemplateEngine"/>), the set of keys is fixed (one per edition, the
/// sign-up and welcome emails, the layout), and no issue text is ever compiled as a template. Instances are
/// cheap and share that engine; register one as a singleton.
/// </remarks>
public sealed partial class RazorEmailRenderer : IEmailRenderer
{
    /// <summary>Embedded-resource namespace of the templates in <c>Views/</c>.</summary>
    internal const string ViewsNamespace = "Newsletter.Templates.Views";

    internal const string LayoutKey = "_Layout";

    /// <summary>The fixed set of template keys: one per edition model.</summary>
    internal static readonly IReadOnlyDictionary<Type, string> TemplateKeys = new Dictionary<Type, string>
    {
        [typeof(FactOfTheWeekEmail)] = "FactOfTheWeek",
        [typeof(TipOfTheWeekEmail)] = "TipOfTheWeek",
        [typeof(SpotlightEmail)] = "Spotlight",
        [typeof(WelcomeLetter)] = WelcomeKey,
    };

    private const int PreheaderLength = 110;

    private readonly ILogger<RazorEmailRenderer> _logger;
    private readonly TemplateEngine _templates;

    /// <summary>A renderer with the built-in templates, each replaced by the editor's file of the same name
    /// in <c>Templates:Folder</c> when there is one.</summary>
    public RazorEmailRenderer(ILogger<RazorEmailRenderer>? logger = null, IOptions<TemplatesOptions>? options = null)
        : this(TemplateSet.Load(options?.Value.FullFolder), logger)
    {
    }

    internal RazorEmailRenderer(TemplateSet templates, ILogger<RazorEmailRenderer>? logger = null)
    {
        Templates = templates;
        _templates = TemplateEngine.For(templates);
        _logger = logger ?? NullLogger<RazorEmailRenderer>.Instance;
    }

    /// <summary>The templates this renderer uses.</summary>
    public TemplateSet Templates { get; }

    private RazorLightEngine Engine => _templates.Engine;

    private Lazy<Task> CompileAll => _templates.CompileAll;

    public Task WarmUpAsync(CancellationToken cancellationToken = default) => CompileAll.Value.WaitAsync(cancellationToken);

    public async Task<PreparedEmail> PrepareAsync(EditionEmail email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        var key = TemplateKeys.TryGetValue(email.GetType(), out var found)
            ? found
            : throw new ArgumentException($"There is no email template for {email.GetType().Name}.", nameof(email));
        Validate(email);

        await CompileAll.Value.WaitAsync(cancellationToken).ConfigureAwait(false);

        var slots = SlotTokens.CreateFresh();
        var body = EmailMarkdown.Parse(email.BodyMarkdown);
        var bodyHtml = Markdown.ToHtml(body, EmailMarkdown.Pipeline);
        var bodyText = EmailMarkdown.ToPlainText(body, EmailMarkdown.TextWidth);
        var headline = string.IsNullOrWhiteSpace(email.Headline) ? OneLine(email.Subject) : email.Headline.Trim();
        var page = new EmailPageData
        {
            Headline = headline,
            BodyHtml = bodyHtml,
            Preheader = Preheader(email, bodyText, headline),
            IssueDate = email.IssueDate.ToString("D", CultureFor(email.Brand.Language)),
            Greeting = slots.Greeting,
            UnsubscribeUrl = slots.UnsubscribeUrl,
            PreferencesUrl = slots.PreferencesUrl,
            IfPreferences = slots.IfPreferences,
            EndPreferences = slots.EndPreferences,
            CrisisLine = slots.CrisisLine,
        };

        var inlined = await RenderInlinedAsync(key, email, page, cancellationToken).ConfigureAwait(false);
        var html = SlottedText.Parse(inlined, slots, markersInComments: true);
        var text = SlottedText.Parse(PlainTextEmail.Compose(email, page, bodyText, slots), slots, markersInComments: false);
        if (html.Count(SlotKind.UnsubscribeUrl) == 0 || text.Count(SlotKind.UnsubscribeUrl) == 0)
        {
            throw new MissingUnsubscribeException($"The {key} template lost the unsubscribe link; every email must carry one.");
        }

        var prepared = new PreparedEmail(
            email.EditionKey, OneLine(email.Subject), html, text, email.Brand.PublicBaseUrl.TrimEnd('/'), OneLine(email.Brand.CrisisResources));
        LogPrepared(_logger, email.EditionKey, prepared.HtmlByteCount);
        return prepared;
    }

    /// <summary>Razor, then the CSS inlined: the same for an email and a web page.</summary>
    private async Task<string> RenderInlinedAsync(string key, EditionEmail email, EmailPageData page, CancellationToken cancellationToken)
    {
        // The compiled template comes from the cache; each render gets its own page instance.
        var template = await Engine.CompileTemplateAsync(key).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var razorHtml = await Engine.RenderTemplateAsync(template, email, EmailTemplatePage<EditionEmail>.ViewBagFor(page)).ConfigureAwait(false);

        // Inline the CSS once per issue. Media queries (small screens, dark mode) cannot be inlined and
        // stay in a <style> block; the comments carrying the conditional slot markers are kept.
        using var preMailer = new PreMailer.Net.PreMailer(razorHtml);
        var inlined = preMailer.MoveCssInline(removeStyleElements: true, removeComments: false, preserveMediaQueries: true);
        foreach (var warning in inlined.Warnings)
        {
            LogInliningWarning(_logger, email.EditionKey, warning);
        }
        return inlined.Html;
    }

    /// <summary>What the templates rely on; the messages are for the editor, who will see them in a preview.</summary>
    private static void Validate(EditionEmail email)
    {
        if (string.IsNullOrWhiteSpace(email.Subject))
        {
            throw new ArgumentException("The issue needs a subject.", nameof(email));
        }

        if (!EmailMarkdown.IsAbsoluteWebUrl(email.Brand.PublicBaseUrl))
        {
            throw new ArgumentException(
                $"The newsletter's public address must be a full web address (https://…), not '{email.Brand.PublicBaseUrl}'.", nameof(email));
        }

        switch (email)
        {
            case FactOfTheWeekEmail fact:
                foreach (var source in fact.Sources)
                {
                    if (string.IsNullOrWhiteSpace(source.Title))
                    {
                        throw new ArgumentException($"A source needs a title: {source.Url}", nameof(email));
                    }

                    if (!EmailMarkdown.IsAbsoluteWebUrl(source.Url))
                    {
                        throw new ArgumentException(
                            $"The source \"{source.Title}\" needs a full web address (https://…), not '{source.Url}'.", nameof(email));
                    }
                }

                break;

            case SpotlightEmail { ImageUrl: { } imageUrl } spotlight:
                if (!EmailMarkdown.IsAbsoluteWebUrl(imageUrl))
                {
                    throw new ArgumentException($"The feature image needs a full web address (https://…), not '{imageUrl}'.", nameof(email));
                }

                if (string.IsNullOrWhiteSpace(spotlight.ImageAlt))
                {
                    throw new ArgumentException(
                        "The feature image needs alt text: a short description of the picture for readers who cannot see it.", nameof(email));
                }

                break;
        }
    }

    /// <summary>The editor's preheader, or the start of the issue's own words.</summary>
    private static string Preheader(EditionEmail email, string bodyText, string headline)
    {
        var source = email.Preheader;
        if (string.IsNullOrWhiteSpace(source))
        {
            source = email switch
            {
                FactOfTheWeekEmail { Fact: { } fact } when !string.IsNullOrWhiteSpace(fact) => fact,
                TipOfTheWeekEmail { Tip: { } tip } when !string.IsNullOrWhiteSpace(tip) => tip,
                _ => bodyText.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(p => p.Trim().Length > 0) ?? headline,
            };
        }

        var line = OneLine(source);
        if (line.Length <= PreheaderLength)
        {
            return line;
        }

        var cut = line.LastIndexOf(' ', PreheaderLength);
        return string.Concat(line.AsSpan(0, cut > 40 ? cut : PreheaderLength).TrimEnd(), "…");
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static CultureInfo CultureFor(string language)
    {
        try
        {
            return CultureInfo.GetCultureInfo(language);
        }
        catch (CultureNotFoundException)
        {
            return CultureInfo.InvariantCulture;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "CSS inlining for edition {EditionKey}: {Warning}")]
    private static partial void LogInliningWarning(ILogger logger, string editionKey, string warning);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prepared an issue of {EditionKey}: {HtmlBytes} bytes of HTML")]
    private static partial void LogPrepared(ILogger logger, string editionKey, int htmlBytes);
}

/// <summary>A template that leaves out the reader's unsubscribe link: nothing made with it may be sent.</summary>
internal sealed class MissingUnsubscribeException(string message) : InvalidOperationException(message);
