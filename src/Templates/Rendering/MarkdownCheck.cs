using Markdig;
using Markdig.Extensions.AutoLinks;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Newsletter.Templates.Rendering;

/// <summary>One thing in an issue's Markdown that would not survive the trip to an inbox.</summary>
/// <param name="Line">1-based line within the Markdown that was checked.</param>
/// <param name="Message">What is wrong, in plain words, quoting the offending bit.</param>
public sealed record MarkdownProblem(int Line, string Message);

/// <summary>
/// Checks an issue's Markdown before it is queued, so the editor hears about problems while she can
/// still fix them. The renderer would quietly drop raw HTML and unsafe links; this says so out loud.
/// </summary>
public static class MarkdownCheck
{
    private const int MaxQuoteLength = 60;

    /// <summary>
    /// Same syntax as the renderer, but with HTML recognised (so it can be reported) and precise
    /// source positions (so the line numbers are right).
    /// </summary>
    private static readonly MarkdownPipeline CheckPipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras()
        .UseAutoLinks(new AutoLinkOptions { OpenInNewWindow = false })
        .UseListExtras()
        .UsePreciseSourceLocation()
        .Build();

    /// <summary>
    /// Finds raw HTML, images without alt text, and links or images whose address is not a full
    /// web address (relative, <c>javascript:</c>, empty). Returns them in the order they appear.
    /// </summary>
    public static IReadOnlyList<MarkdownProblem> FindProblems(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var document = Markdown.Parse(markdown, CheckPipeline);
        var problems = new List<(int Line, int Column, string Message)>();

        foreach (var node in document.Descendants())
        {
            switch (node)
            {
                case HtmlBlock html:
                    problems.Add((html.Line, html.Column, RawHtml(FirstLine(html))));
                    break;

                case HtmlInline html:
                    problems.Add((html.Line, html.Column, RawHtml(html.Tag)));
                    break;

                case LinkInline { IsImage: true } image:
                    if (EmailMarkdown.InlineText(image).Trim().Length == 0)
                    {
                        problems.Add((image.Line, image.Column,
                            $"image has no alt text (describe the picture between the square brackets, as in `![A walk in the park](…)`): `{Quote(Source(markdown, image))}`"));
                    }

                    if (!EmailMarkdown.IsAbsoluteWebUrl(image.Url))
                    {
                        problems.Add((image.Line, image.Column, NotAbsolute("image link", image.Url)));
                    }

                    break;

                case LinkInline link:
                    if (!EmailMarkdown.IsAllowedLinkUrl(link.Url))
                    {
                        problems.Add((link.Line, link.Column, NotAbsolute("link", link.Url)));
                    }

                    break;

                case AutolinkInline autolink when !autolink.IsEmail && !EmailMarkdown.IsAbsoluteWebUrl(autolink.Url):
                    problems.Add((autolink.Line, autolink.Column, NotAbsolute("link", autolink.Url)));
                    break;
            }
        }

        return problems
            .OrderBy(p => p.Line)
            .ThenBy(p => p.Column)
            .Select(p => new MarkdownProblem(p.Line + 1, p.Message))
            .ToList();
    }

    private static string RawHtml(string html) =>
        $"raw HTML is not allowed in an issue: `{Quote(html)}` (use Markdown instead, or remove it)";

    private static string NotAbsolute(string what, string? url) =>
        string.IsNullOrWhiteSpace(url)
            ? $"{what} is not absolute: `` (the address is empty; use a full address starting with https://)"
            : $"{what} is not absolute: `{Quote(url)}` (use a full address starting with https://)";

    private static string FirstLine(HtmlBlock html)
    {
        var text = (html.Lines.Count > 0 ? html.Lines.Lines[0].Slice.ToString() : "").Trim();

        // Quote the opening tag the editor will recognise, e.g. `<div>` for `<div>Hello</div>`.
        var open = text.IndexOf('<', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf('>', open);
        return close > open ? text[open..(close + 1)] : text;
    }

    private static string Source(string markdown, MarkdownObject node)
    {
        var span = node.Span;
        if (span.Start < 0 || span.End >= markdown.Length || span.End < span.Start)
        {
            return "";
        }

        return markdown.Substring(span.Start, span.Length);
    }

    private static string Quote(string text)
    {
        text = text.ReplaceLineEndings(" ").Replace('`', '\'');
        return text.Length <= MaxQuoteLength ? text : string.Concat(text.AsSpan(0, MaxQuoteLength - 1), "…");
    }
}
