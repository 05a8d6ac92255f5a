using System.Text;
using Markdig;
using Markdig.Extensions.AutoLinks;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// The issue body's Markdown, turned into the two forms an email needs: HTML for the HTML part and
/// plain text for the text part. Both come from the same Markdig syntax tree, so the two parts
/// always say the same thing. Raw HTML in the Markdown is never passed through.
/// </summary>
public static class EmailMarkdown
{
    /// <summary>Width the plain text is wrapped to; quoted or indented lines may run a little longer.</summary>
    public const int TextWidth = 72;

    /// <summary>
    /// The pipeline used for rendering: emphasis extras (strikethrough and friends), bare links
    /// turned into links, list extras (lettered and roman lists), and raw HTML shown as text.
    /// Immutable and safe to share between threads.
    /// </summary>
    public static MarkdownPipeline Pipeline { get; } = new MarkdownPipelineBuilder()
        .UseEmphasisExtras()
        .UseAutoLinks(new AutoLinkOptions { OpenInNewWindow = false })
        .UseListExtras()
        .DisableHtml()
        .Build();

    /// <summary>Markdown → HTML for the email body. Links that are not absolute web (or mailto) addresses are dropped to their text.</summary>
    public static string ToHtml(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var document = Parse(markdown);
        return Markdown.ToHtml(document, Pipeline);
    }

    /// <summary>
    /// Markdown → plain text for the text part: paragraphs wrapped at <see cref="TextWidth"/>,
    /// list items as "- item" (or "1. item"), links as "text (url)", headings as their text followed by a
    /// blank line, emphasis stripped. Lines end with <c>\n</c>; no trailing newline.
    /// </summary>
    public static string ToPlainText(string markdown, int width = TextWidth)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return ToPlainText(Parse(markdown), width);
    }

    internal static string ToPlainText(MarkdownDocument document, int width)
    {
        var lines = new List<string>();
        new PlainTextWriter(lines, width).WriteContainer(document, "", "", loose: true);
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return string.Join('\n', lines);
    }

    /// <summary>True for the addresses an email may link to: absolute http(s), or mailto.</summary>
    public static bool IsAllowedLinkUrl(string? url) => IsAbsoluteWebUrl(url) || IsMailto(url);

    /// <summary>True for an absolute http:// or https:// address with a host.</summary>
    public static bool IsAbsoluteWebUrl(string? url) =>
        !string.IsNullOrWhiteSpace(url)
        && Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && uri.Host.Length > 0;

    private static bool IsMailto(string? url) =>
        url is not null
        && url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)
        && url.Length > "mailto:".Length
        && url.Contains('@', StringComparison.Ordinal);

    /// <summary>Parses with the rendering pipeline and neutralises links an email must not carry.</summary>
    internal static MarkdownDocument Parse(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        NeutraliseUnsafeLinks(document);
        return document;
    }

    /// <summary>
    /// The editor's check (<see cref="MarkdownCheck"/>) reports relative and <c>javascript:</c> links before an
    /// issue is queued; this is the renderer's own guard: such a link becomes its plain text, and such an
    /// image becomes its alt text, so nothing unsafe or broken ever reaches an inbox.
    /// </summary>
    private static void NeutraliseUnsafeLinks(MarkdownDocument document)
    {
        var unsafeLinks = document.Descendants<LinkInline>()
            .Where(link => !(link.IsImage ? IsAbsoluteWebUrl(link.Url) : IsAllowedLinkUrl(link.Url)))
            .ToList();

        foreach (var link in unsafeLinks)
        {
            if (link.IsImage)
            {
                var alt = InlineText(link);
                link.ReplaceBy(new LiteralInline(alt.Length == 0 ? "" : $"[{alt}]"));
                continue;
            }

            // Move the link's children out in front of it, then drop the empty link.
            Inline anchor = link;
            var child = link.FirstChild;
            while (child is not null)
            {
                var next = child.NextSibling;
                child.Remove();
                anchor.InsertAfter(child);
                anchor = child;
                child = next;
            }

            link.Remove();
        }

        foreach (var autolink in document.Descendants<AutolinkInline>().Where(a => !a.IsEmail && !IsAbsoluteWebUrl(a.Url)).ToList())
        {
            autolink.ReplaceBy(new LiteralInline(autolink.Url));
        }
    }

    /// <summary>The plain text of an inline container, with emphasis stripped and links reduced to their text.</summary>
    internal static string InlineText(ContainerInline? container)
    {
        if (container is null)
        {
            return "";
        }

        var builder = new StringBuilder();
        AppendInlineText(builder, container, withUrls: false);
        return builder.ToString();
    }

    private static void AppendInlineText(StringBuilder builder, ContainerInline container, bool withUrls)
    {
        foreach (var inline in container)
        {
            AppendInline(builder, inline, withUrls);
        }
    }

    private static void AppendInline(StringBuilder builder, Inline inline, bool withUrls)
    {
        switch (inline)
        {
            case LiteralInline literal:
                builder.Append(literal.Content.AsSpan());
                break;
            case CodeInline code:
                builder.Append(code.Content);
                break;
            case HtmlEntityInline entity:
                builder.Append(entity.Transcoded.AsSpan());
                break;
            case HtmlInline html:
                builder.Append(html.Tag);
                break;
            case LineBreakInline lineBreak:
                builder.Append(lineBreak.IsHard ? '\n' : ' ');
                break;
            case AutolinkInline autolink:
                builder.Append(autolink.Url);
                break;
            case LinkInline { IsImage: true } image:
                {
                    var alt = InlineText(image);
                    if (alt.Length > 0)
                    {
                        builder.Append('[').Append(withUrls ? "Image: " : "").Append(alt).Append(']');
                    }

                    break;
                }

            case LinkInline link:
                {
                    var text = new StringBuilder();
                    AppendInlineText(text, link, withUrls: false);
                    var label = text.ToString();
                    var url = link.Url ?? "";
                    builder.Append(label);
                    if (withUrls && url.Length > 0 && !SameAddress(label, url))
                    {
                        builder.Append(" (").Append(url).Append(')');
                    }

                    break;
                }

            case ContainerInline container:
                AppendInlineText(builder, container, withUrls);
                break;
        }
    }

    /// <summary>An autolinked <c>www.example.org</c> or <c>https://example.org</c> needs no "(url)" after it.</summary>
    private static bool SameAddress(string label, string url)
    {
        static string Bare(string s)
        {
            s = s.Trim();
            foreach (var prefix in new[] { "mailto:", "https://", "http://" })
            {
                if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    s = s[prefix.Length..];
                }
            }

            return s.TrimEnd('/');
        }

        return string.Equals(Bare(label), Bare(url), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Word-wraps one paragraph of text (no newlines) to <paramref name="width"/> columns.</summary>
    internal static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    /// <summary>Walks Markdig's block tree and writes plain-text lines.</summary>
    private sealed class PlainTextWriter(List<string> lines, int width)
    {
        /// <summary>Writes each child block; loose containers put a blank line between blocks.</summary>
        public void WriteContainer(ContainerBlock container, string firstPrefix, string restPrefix, bool loose)
        {
            var first = true;
            foreach (var block in container)
            {
                if (block is LinkReferenceDefinitionGroup or LinkReferenceDefinition or BlankLineBlock)
                {
                    continue;
                }

                if (!first && loose)
                {
                    BlankLine(restPrefix);
                }

                WriteBlock(block, first ? firstPrefix : restPrefix, restPrefix);
                first = false;
            }
        }

        private void WriteBlock(Block block, string firstPrefix, string restPrefix)
        {
            switch (block)
            {
                case HeadingBlock heading:
                    WriteWrapped(InlineTextWithUrls(heading.Inline), firstPrefix, restPrefix);
                    BlankLine(restPrefix);
                    break;

                case ParagraphBlock paragraph:
                    WriteWrapped(InlineTextWithUrls(paragraph.Inline), firstPrefix, restPrefix);
                    break;

                case ListBlock list:
                    WriteList(list, firstPrefix, restPrefix);
                    break;

                case QuoteBlock quote:
                    WriteContainer(quote, firstPrefix + "> ", restPrefix + "> ", loose: true);
                    break;

                case CodeBlock code:
                    {
                        var prefix = firstPrefix;
                        foreach (var codeLine in code.Lines.Lines.Take(code.Lines.Count))
                        {
                            lines.Add((prefix + "    " + codeLine.Slice.ToString()).TrimEnd());
                            prefix = restPrefix;
                        }

                        break;
                    }

                case ThematicBreakBlock:
                    lines.Add(firstPrefix + "---");
                    break;

                case LeafBlock leaf when leaf.Inline is not null:
                    WriteWrapped(InlineTextWithUrls(leaf.Inline), firstPrefix, restPrefix);
                    break;

                case LeafBlock leaf:
                    {
                        var prefix = firstPrefix;
                        foreach (var raw in leaf.Lines.Lines.Take(leaf.Lines.Count))
                        {
                            lines.Add((prefix + raw.Slice.ToString()).TrimEnd());
                            prefix = restPrefix;
                        }

                        break;
                    }

                case ContainerBlock other:
                    WriteContainer(other, firstPrefix, restPrefix, loose: true);
                    break;
            }
        }

        private void WriteList(ListBlock list, string firstPrefix, string restPrefix)
        {
            var number = 1;
            if (list.IsOrdered && int.TryParse(list.OrderedStart, out var start))
            {
                number = start;
            }

            var firstItem = true;
            foreach (var item in list.OfType<ListItemBlock>())
            {
                if (!firstItem && list.IsLoose)
                {
                    BlankLine(restPrefix);
                }

                var bullet = list.IsOrdered ? $"{number}{(list.OrderedDelimiter == ')' ? ')' : '.')} " : "- ";
                var prefix = firstItem ? firstPrefix : restPrefix;
                WriteContainer(item, prefix + bullet, restPrefix + new string(' ', bullet.Length), list.IsLoose);
                firstItem = false;
                number++;
            }
        }

        private void WriteWrapped(string text, string firstPrefix, string restPrefix)
        {
            var prefix = firstPrefix;
            var available = Math.Max(20, width - restPrefix.Length);
            foreach (var hardLine in text.Split('\n'))
            {
                var any = false;
                foreach (var wrapped in Wrap(hardLine, available))
                {
                    lines.Add(prefix + wrapped);
                    prefix = restPrefix;
                    any = true;
                }

                if (!any)
                {
                    lines.Add(prefix.TrimEnd());
                    prefix = restPrefix;
                }
            }
        }

        /// <summary>Adds one blank line (keeping a quote's "&gt;"), never two in a row and never at the top.</summary>
        private void BlankLine(string prefix)
        {
            var blank = prefix.TrimEnd();
            if (lines.Count > 0 && lines[^1] != blank)
            {
                lines.Add(blank);
            }
        }

        private static string InlineTextWithUrls(ContainerInline? container)
        {
            if (container is null)
            {
                return "";
            }

            var builder = new StringBuilder();
            AppendInlineText(builder, container, withUrls: true);
            return builder.ToString();
        }
    }
}
