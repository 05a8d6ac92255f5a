using System.Globalization;
using System.Text;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Newsletter.Worker.Issues;

public static class ParsedIssueEmails
{
    /// <summary>The email model of an issue file not stored yet (being checked or previewed).</summary>
    public static EditionEmail Create(this EditionEmailFactory factory, ParsedIssue issue, DateOnly issueDate) =>
        factory.Create(issue.Edition, issue.Subject, issue.Preheader, issue.BodyMarkdown, issue.Extras, issueDate);
}

/// <summary>A problem in an issue file, with the line it is on (1-based; 0 when it is about the whole file).</summary>
public sealed record IssueProblem(int Line, string Message)
{
    public string Format(string file) => Line > 0 ? $"{file}:{Line}: {Message}" : $"{file}: {Message}";
}

public sealed record ParsedIssue(
    string Edition, string Subject, string? Preheader, DateOnly? SendOn, IssueExtras Extras, string BodyMarkdown)
{
    /// <summary>The file line of <c>send_on</c>, for problems found later against the schedule.</summary>
    public int SendOnLine { get; init; }

    /// <summary>False when the front matter says <c>archive: false</c>: the issue never appears in the public archive.</summary>
    public bool InArchive { get; init; } = true;
}

/// <summary>
/// Reads an issue file: a YAML front-matter block between <c>---</c> lines, then the Markdown body.
/// Every problem found is reported with its line; a file with any problem is not an issue.
/// </summary>
public static class IssueFile
{
    public const int MaxSubjectLength = 200;
    public const int MaxValueLength = 2000;

    /// <summary>The preheader's column holds this many characters.</summary>
    public const int MaxPreheaderLength = 500;

    private static readonly string[] CommonKeys = ["edition", "subject", "preheader", "send_on", "headline", "archive"];

    private static readonly Dictionary<EditionFormat, string[]> FormatKeys = new()
    {
        [EditionFormat.Fact] = ["fact", "theme", "sources"],
        [EditionFormat.Tip] = ["tip", "examples"],
        [EditionFormat.Spotlight] = ["edition_label", "featured_person", "authors_note", "image", "image_alt"],
    };

    public static (ParsedIssue? Issue, IReadOnlyList<IssueProblem> Problems) Parse(string text, EditionsOptions editions)
    {
        // Every way in (a file, an upload, the workspace's form) meets the same bound.
        if (text.Length > IssueFileLimits.MaxBytes && Encoding.UTF8.GetByteCount(text) is var bytes && bytes > IssueFileLimits.MaxBytes)
        {
            return (null, [new IssueProblem(0, IssueFileLimits.TooLarge(bytes))]);
        }
        var problems = new List<IssueProblem>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines.Length == 0 || lines[0].TrimEnd() != "---")
        {
            return (null, [new IssueProblem(1, "an issue starts with a front-matter block: a line '---', the keys (edition, subject, …), then another '---'")]);
        }
        var end = Array.FindIndex(lines, 1, l => l.TrimEnd() == "---");
        if (end < 0)
        {
            return (null, [new IssueProblem(1, "the front-matter block is not closed: add a line '---' after the last key")]);
        }
        var yaml = string.Join('\n', lines[1..end]);
        var body = string.Join('\n', lines[(end + 1)..]);
        var bodyFirstLine = end + 2; // 1-based line number of the first body line

        if (IssueFileLimits.CheckFrontMatter(yaml) is { } limit)
        {
            return (null, [limit]);
        }
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                return (null, [new IssueProblem(2, "the front matter must be 'key: value' lines")]);
            }
            root = mapping;
        }
        catch (YamlException ex)
        {
            // The YAML starts on file line 2.
            var line = (int)ex.Start.Line + 1;
            return (null, [new IssueProblem(line, $"the front matter is not valid YAML: {ex.Message}")]);
        }

        var values = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var line = LineOf(keyNode);
            if (!values.TryAdd(key, (valueNode, line)))
            {
                problems.Add(new IssueProblem(line, $"'{key}' appears twice"));
            }
        }

        var edition = Scalar(values, "edition", problems, required: true);
        EditionOptions? editionOptions = null;
        if (edition is not null && !editions.TryGet(edition, out editionOptions))
        {
            problems.Add(new IssueProblem(values["edition"].Line,
                $"unknown edition '{edition}' (known editions: {string.Join(", ", editions.Keys)})"));
        }
        var subject = Scalar(values, "subject", problems, required: true);
        if (subject is not null && subject.Length > MaxSubjectLength)
        {
            problems.Add(new IssueProblem(values["subject"].Line, $"the subject is {subject.Length} characters; keep it under {MaxSubjectLength}"));
        }
        var preheader = Scalar(values, "preheader", problems);
        if (preheader is not null && preheader.Length > MaxPreheaderLength)
        {
            problems.Add(new IssueProblem(values["preheader"].Line, $"the preheader is {preheader.Length} characters; the limit is {MaxPreheaderLength}"));
        }
        DateOnly? sendOn = null;
        if (Scalar(values, "send_on", problems) is { } sendOnText)
        {
            if (DateOnly.TryParseExact(sendOnText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                sendOn = date;
            }
            else
            {
                problems.Add(new IssueProblem(values["send_on"].Line, $"send_on '{sendOnText}' is not a date like 2026-12-07"));
            }
        }

        var inArchive = true;
        if (Scalar(values, "archive", problems) is { } archiveText)
        {
            if (bool.TryParse(archiveText, out var archive))
            {
                inArchive = archive;
            }
            else
            {
                problems.Add(new IssueProblem(values["archive"].Line, $"archive '{archiveText}' must be true or false (false keeps the issue out of the public archive)"));
            }
        }

        if (editionOptions is not null)
        {
            var allowed = CommonKeys.Concat(FormatKeys[editionOptions.Format]).ToHashSet(StringComparer.Ordinal);
            foreach (var (key, (_, line)) in values.Where(v => !allowed.Contains(v.Key)))
            {
                problems.Add(new IssueProblem(line,
                    $"unknown key '{key}' for {editionOptions.DisplayName} (allowed: {string.Join(", ", allowed)})"));
            }
        }

        var extras = new IssueExtras
        {
            Headline = Scalar(values, "headline", problems),
            Fact = Scalar(values, "fact", problems),
            Tip = Scalar(values, "tip", problems),
            Theme = Scalar(values, "theme", problems),
            Sources = Sources(values, problems),
            Examples = StringList(values, "examples", problems),
            EditionLabel = Scalar(values, "edition_label", problems),
            FeaturedPerson = Scalar(values, "featured_person", problems),
            AuthorsNote = Scalar(values, "authors_note", problems),
            Image = Scalar(values, "image", problems),
            ImageAlt = Scalar(values, "image_alt", problems),
        };
        if (extras.Image is { } image)
        {
            if (!IsAbsoluteHttp(image))
            {
                problems.Add(new IssueProblem(values["image"].Line, $"image must be an absolute https address, not '{image}'"));
            }
            if (string.IsNullOrWhiteSpace(extras.ImageAlt))
            {
                problems.Add(new IssueProblem(values["image"].Line, "the image needs alt text: add 'image_alt: …' describing it for readers who cannot see it"));
            }
        }

        if (string.IsNullOrWhiteSpace(body))
        {
            problems.Add(new IssueProblem(bodyFirstLine, "the issue has no body: write it below the closing '---'"));
        }
        foreach (var p in MarkdownCheck.FindProblems(body))
        {
            problems.Add(new IssueProblem(p.Line + bodyFirstLine - 1, p.Message));
        }

        if (problems.Count > 0)
        {
            return (null, problems.OrderBy(p => p.Line).ToList());
        }
        return (new ParsedIssue(edition!, subject!, preheader, sendOn, extras, body.Trim('\n'))
        {
            SendOnLine = values.TryGetValue("send_on", out var sendOnEntry) ? sendOnEntry.Line : 0,
            InArchive = inArchive,
        }, []);
    }

    private static string? Scalar(
        Dictionary<string, (YamlNode Node, int Line)> values, string key, List<IssueProblem> problems, bool required = false)
    {
        if (!values.TryGetValue(key, out var entry))
        {
            if (required)
            {
                problems.Add(new IssueProblem(0, $"the front matter has no '{key}:' (it is required)"));
            }
            return null;
        }
        if (entry.Node is not YamlScalarNode scalar)
        {
            problems.Add(new IssueProblem(entry.Line, $"'{key}' must be a single value, not a list or mapping"));
            return null;
        }
        return CheckText(scalar.Value, key, entry.Line, problems, required);
    }

    private static string? CheckText(string? raw, string key, int line, List<IssueProblem> problems, bool required)
    {
        var value = raw?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                problems.Add(new IssueProblem(line, $"'{key}' is empty (it is required)"));
            }
            return null;
        }
        // Values end up in headers and one-line places: a line break there could forge a header.
        if (value.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029'))
        {
            problems.Add(new IssueProblem(line, $"'{key}' contains a line break or control character; keep it on one line"));
            return null;
        }
        if (value.Length > MaxValueLength)
        {
            problems.Add(new IssueProblem(line, $"'{key}' is {value.Length} characters; the limit is {MaxValueLength}"));
            return null;
        }
        return value;
    }

    private static List<string> StringList(
        Dictionary<string, (YamlNode Node, int Line)> values, string key, List<IssueProblem> problems)
    {
        if (!values.TryGetValue(key, out var entry))
        {
            return [];
        }
        if (entry.Node is not YamlSequenceNode sequence)
        {
            problems.Add(new IssueProblem(entry.Line, $"'{key}' must be a list, one '- item' per line"));
            return [];
        }
        var list = new List<string>();
        foreach (var item in sequence)
        {
            if (item is not YamlScalarNode scalar)
            {
                problems.Add(new IssueProblem(LineOf(item), $"each item of '{key}' must be plain text"));
                continue;
            }
            if (CheckText(scalar.Value, key, LineOf(item), problems, required: false) is { } text)
            {
                list.Add(text);
            }
        }
        return list;
    }

    private static List<IssueSource> Sources(Dictionary<string, (YamlNode Node, int Line)> values, List<IssueProblem> problems)
    {
        if (!values.TryGetValue("sources", out var entry))
        {
            return [];
        }
        if (entry.Node is not YamlSequenceNode sequence)
        {
            problems.Add(new IssueProblem(entry.Line, "'sources' must be a list: '- title: …' with 'url: …' under it, or '- https://…'"));
            return [];
        }
        var list = new List<IssueSource>();
        foreach (var item in sequence)
        {
            var line = LineOf(item);
            string? title, url;
            switch (item)
            {
                case YamlScalarNode s:
                    url = CheckText(s.Value, "sources", line, problems, required: true);
                    title = url;
                    break;
                case YamlMappingNode m:
                    title = CheckText(Child(m, "title"), "sources: title", line, problems, required: true);
                    url = CheckText(Child(m, "url"), "sources: url", line, problems, required: true);
                    foreach (var extra in m.Children.Keys.OfType<YamlScalarNode>().Where(k => k.Value is not ("title" or "url")))
                    {
                        problems.Add(new IssueProblem(LineOf(extra), $"unknown key '{extra.Value}' in a source (allowed: title, url)"));
                    }
                    break;
                default:
                    problems.Add(new IssueProblem(line, "each source is a URL or a 'title:'/'url:' pair"));
                    continue;
            }
            if (url is null || title is null)
            {
                continue;
            }
            if (!IsAbsoluteHttp(url))
            {
                problems.Add(new IssueProblem(line, $"source link is not absolute: '{url}' (use https://…)"));
                continue;
            }
            list.Add(new IssueSource(title, url));
        }
        return list;
    }

    private static string? Child(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;

    private static bool IsAbsoluteHttp(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    /// <summary>File line of a front-matter node: the YAML starts on the file's second line.</summary>
    private static int LineOf(YamlNode node) => (int)node.Start.Line + 1;
}
