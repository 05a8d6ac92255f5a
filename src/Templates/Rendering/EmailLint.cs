using System.Net;
using AngleSharp.Html.Parser;

namespace Newsletter.Templates.Rendering;

/// <summary>What every email must show, as configured for the newsletter.</summary>
/// <param name="UnsubscribeUrl">The unsubscribe link the email was personalised with.</param>
/// <param name="PostalAddress">The newsletter's postal address (may span lines).</param>
/// <param name="Disclaimer">The "information, not professional advice" disclaimer.</param>
/// <param name="SiteBaseUrl">The newsletter's own site: its links may use http when the site does
/// (a local test set-up); every other link must be https.</param>
public sealed record EmailLintExpectations(string UnsubscribeUrl, string PostalAddress, string Disclaimer, string SiteBaseUrl);

/// <summary>One reason an email must not go out, in the editor's words. <see cref="Code"/> is stable for tests and tools.</summary>
public sealed record EmailLintProblem(string Code, string Message)
{
    public override string ToString() => Message;
}

/// <summary>
/// Checks an email as readers will get it — the final HTML, CSS inlined, and the text part — for
/// what a mailbox provider, the law and the readers need: a working unsubscribe link, the postal
/// address, the disclaimer, absolute https links and alt text on every image. The Markdown check
/// (<see cref="MarkdownCheck"/>) catches most of this earlier with line numbers; this looks at what
/// the templates actually produced, so a template or configuration that drops something is caught too.
/// </summary>
public static class EmailLint
{
    public const string MissingUnsubscribe = "unsubscribe-missing";
    public const string MissingPostalAddress = "postal-address-missing";
    public const string MissingDisclaimer = "disclaimer-missing";
    public const string LinkNotAbsolute = "link-not-absolute";
    public const string LinkNotHttps = "link-not-https";
    public const string ImageWithoutAlt = "image-without-alt";
    public const string ImageNotAbsolute = "image-not-absolute";

    private static readonly HtmlParser Parser = new();

    public static IReadOnlyList<EmailLintProblem> Check(RenderedEmail email, EmailLintExpectations expected)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(expected);
        var problems = new List<EmailLintProblem>();
        using var document = Parser.ParseDocument(email.Html);
        var htmlText = Normalise(document.Body?.TextContent);
        var plainText = Normalise(email.Text);

        var unsubscribeUrl = expected.UnsubscribeUrl.Trim();
        var unsubscribeLinks = document.QuerySelectorAll("a[href]")
            .Where(a => string.Equals(a.GetAttribute("href")?.Trim(), unsubscribeUrl, StringComparison.Ordinal)
                        && Normalise(a.TextContent).Length > 0)
            .ToList();
        if (unsubscribeLinks.Count == 0)
        {
            problems.Add(new(MissingUnsubscribe, "the unsubscribe link is missing from the HTML part: every email must let the reader leave with one click"));
        }
        if (!email.Text.Contains(unsubscribeUrl, StringComparison.Ordinal))
        {
            problems.Add(new(MissingUnsubscribe, "the unsubscribe link is missing from the plain-text part: every email must let the reader leave"));
        }

        var addressLines = Lines(expected.PostalAddress);
        if (addressLines.Count == 0)
        {
            problems.Add(new(MissingPostalAddress, "the postal address is missing: the newsletter's postal address is empty in the configuration (Newsletter:PostalAddress), and every email must show one"));
        }
        else if (addressLines.Any(l => !htmlText.Contains(l, StringComparison.Ordinal) || !plainText.Contains(l, StringComparison.Ordinal)))
        {
            problems.Add(new(MissingPostalAddress, $"the postal address is missing from the email: '{string.Join(", ", addressLines)}' must appear in its footer"));
        }

        var disclaimer = Normalise(expected.Disclaimer);
        if (disclaimer.Length == 0)
        {
            problems.Add(new(MissingDisclaimer, "the disclaimer is missing: it is empty in the configuration (Newsletter:Disclaimer), and every email must say it is information, not professional advice"));
        }
        else if (!htmlText.Contains(disclaimer, StringComparison.Ordinal) || !plainText.Contains(disclaimer, StringComparison.Ordinal))
        {
            problems.Add(new(MissingDisclaimer, "the disclaimer is missing from the email: every email must say it is information, not professional advice"));
        }

        foreach (var link in document.QuerySelectorAll("a, area"))
        {
            var href = link.GetAttribute("href");
            if (href is null && link.LocalName == "a")
            {
                continue; // an anchor without href is not a link
            }
            switch (Classify(href, expected.SiteBaseUrl, allowMailto: true))
            {
                case UrlKind.NotAbsolute:
                    problems.Add(new(LinkNotAbsolute, $"a link is not absolute: `{Quote(href)}` (\"{Quote(Normalise(link.TextContent))}\"); use a full address starting with https://"));
                    break;
                case UrlKind.NotHttps:
                    problems.Add(new(LinkNotHttps, $"a link is not https: `{Quote(href)}` (\"{Quote(Normalise(link.TextContent))}\"); use the https:// address"));
                    break;
            }
        }

        foreach (var image in document.QuerySelectorAll("img"))
        {
            var src = image.GetAttribute("src");
            if (string.IsNullOrWhiteSpace(image.GetAttribute("alt")))
            {
                problems.Add(new(ImageWithoutAlt, $"an image has no alt text: `{Quote(src)}`; describe the picture for readers who cannot see it"));
            }
            if (Classify(src, expected.SiteBaseUrl, allowMailto: false) != UrlKind.Ok)
            {
                problems.Add(new(ImageNotAbsolute, $"an image address is not an absolute https address: `{Quote(src)}`"));
            }
        }

        return problems;
    }

    private enum UrlKind
    {
        Ok,
        NotAbsolute,
        NotHttps,
    }

    private static UrlKind Classify(string? url, string siteBaseUrl, bool allowMailto)
    {
        var value = url?.Trim() ?? "";
        if (allowMailto && value.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) && value.Contains('@', StringComparison.Ordinal))
        {
            return UrlKind.Ok;
        }
        if (!EmailMarkdown.IsAbsoluteWebUrl(value))
        {
            return UrlKind.NotAbsolute;
        }
        if (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return UrlKind.Ok;
        }
        var site = siteBaseUrl.TrimEnd('/');
        return site.Length > 0 && (value.Equals(site, StringComparison.OrdinalIgnoreCase) || value.StartsWith(site + "/", StringComparison.OrdinalIgnoreCase))
            ? UrlKind.Ok
            : UrlKind.NotHttps;
    }

    private static List<string> Lines(string? value) =>
        (value ?? "").ReplaceLineEndings("\n").Split('\n').Select(Normalise).Where(l => l.Length > 0).ToList();

    /// <summary>Decoded text with every run of white space as one space, so wrapping and markup do not matter.</summary>
    private static string Normalise(string? text) =>
        string.Join(' ', WebUtility.HtmlDecode(text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Quote(string? text)
    {
        var value = (text ?? "").ReplaceLineEndings(" ");
        return value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 79), "…");
    }
}
