using System.Text;
using System.Text.RegularExpressions;
using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// The welcome email's Markdown (<c>welcome.md</c>) and its placeholders. An optional front-matter block
/// gives <c>subject</c>, <c>preheader</c> and <c>headline</c>; the body is Markdown in which the code fills
/// <c>{{editions}}</c> (a list: each edition and when it arrives), <c>{{latest_issues}}</c> (a list of
/// links to the archive), <c>{{preferences_url}}</c>, <c>{{unsubscribe_url}}</c>, <c>{{crisis_line}}</c>,
/// <c>{{name}}</c> and <c>{{newsletter}}</c>; text between <c>{{#latest_issues}}</c> and
/// <c>{{/latest_issues}}</c> is left out when no chosen edition has an issue in the archive yet.
/// What readers and the editor wrote is escaped, so it stays text.
/// </summary>
internal static partial class WelcomeText
{
    public const string Editions = "editions";
    public const string LatestIssues = "latest_issues";
    public const string PreferencesUrl = "preferences_url";
    public const string UnsubscribeUrl = "unsubscribe_url";
    public const string CrisisLine = "crisis_line";
    public const string Name = "name";
    public const string Newsletter = "newsletter";

    private static readonly string[] BodyPlaceholders = [Editions, LatestIssues, PreferencesUrl, UnsubscribeUrl, CrisisLine, Name, Newsletter];
    private static readonly string[] LinePlaceholders = [Name, Newsletter];
    private static readonly string[] Required = [Editions, PreferencesUrl];
    private static readonly string[] Keys = ["subject", "preheader", "headline"];

    /// <summary>The file split into its front matter (by key, with the value's line) and its body (with its first line).</summary>
    private sealed record Parts(Dictionary<string, (string Value, int Line)> Fields, string Body, int BodyLine, List<(int Line, string Message)> Problems);

    /// <summary>What is wrong with the file's structure, by 1-based line: front matter, placeholders, sections, raw HTML, links.</summary>
    public static IReadOnlyList<(int Line, string Message)> Check(string text)
    {
        var parts = Split(text);
        var problems = parts.Problems;
        foreach (var (key, (value, line)) in parts.Fields)
        {
            foreach (Match m in Placeholder().Matches(value))
            {
                if (m.Groups["mark"].Length > 0 || !LinePlaceholders.Contains(m.Groups["name"].Value, StringComparer.Ordinal))
                {
                    problems.Add((line, $"{m.Value} cannot be used in the {key}; only {{{{name}}}} and {{{{newsletter}}}} can"));
                }
            }
        }

        var open = (int?)null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Placeholder().Matches(parts.Body))
        {
            var line = parts.BodyLine + LineOf(parts.Body, m.Index);
            var name = m.Groups["name"].Value;
            switch (m.Groups["mark"].Value)
            {
                case "#" or "/" when name != LatestIssues:
                    problems.Add((line, $"{m.Value}: only {{{{#{LatestIssues}}}}} … {{{{/{LatestIssues}}}}} can surround text"));
                    break;
                case "#" when open is not null:
                    problems.Add((line, $"{m.Value} inside another {{{{#{LatestIssues}}}}} (opened on line {open})"));
                    break;
                case "#":
                    open = line;
                    break;
                case "/" when open is null:
                    problems.Add((line, $"{m.Value} closes a section that was never opened"));
                    break;
                case "/":
                    open = null;
                    break;
                default:
                    if (!BodyPlaceholders.Contains(name, StringComparer.Ordinal))
                    {
                        problems.Add((line, $"unknown placeholder {m.Value} (known: {string.Join(", ", BodyPlaceholders.Select(p => "{{" + p + "}}"))})"));
                    }
                    seen.Add(name);
                    break;
            }
        }
        if (open is { } unclosed)
        {
            problems.Add((unclosed, $"{{{{#{LatestIssues}}}}} is never closed with {{{{/{LatestIssues}}}}}"));
        }
        foreach (var name in Required.Where(r => !seen.Contains(r)))
        {
            problems.Add((parts.BodyLine, $"the welcome must use {{{{{name}}}}} ({(name == Editions ? "the reader's editions and when each arrives" : "the link to change editions or take a break")})"));
        }

        // Raw HTML and links that are not full addresses, with placeholders standing in on their own lines.
        var standIn = Placeholder().Replace(parts.Body, m => m.Groups["mark"].Length > 0 ? ""
            : m.Groups["name"].Value.EndsWith("_url", StringComparison.Ordinal) ? "https://example.org/" : "x");
        problems.AddRange(MarkdownCheck.FindProblems(standIn).Select(p => (parts.BodyLine + p.Line - 1, p.Message)));
        return [.. problems.OrderBy(p => p.Line)];
    }

    /// <summary>Subject, preheader, headline and body Markdown for one reader. The file must have passed <see cref="Check"/>.</summary>
    public static (string Subject, string? Preheader, string? Headline, string Markdown) Fill(string text, WelcomeEmail email)
    {
        var parts = Split(text);
        if (parts.Problems.Count > 0)
        {
            throw new InvalidOperationException($"{TemplateSet.WelcomeFile}:{parts.Problems[0].Line}: {parts.Problems[0].Message}");
        }
        string? Field(string key) => parts.Fields.TryGetValue(key, out var f) ? OneLine(FillLine(f.Value, email)) : null;

        var hasLatest = email.Editions.Any(e => e.Latest is not null);
        var body = Section().Replace(parts.Body, m => hasLatest ? m.Groups["inner"].Value : "");
        body = Placeholder().Replace(body, m => m.Groups["name"].Value switch
        {
            Editions => string.Join('\n', email.Editions.Select(e => $"- **{Escape(e.Name)}**: {Escape(e.Arrives)}")),
            LatestIssues => string.Join('\n', email.Editions.Where(e => e.Latest is not null)
                .Select(e => $"- {Escape(e.Name)}: [{Escape(e.Latest!.Title)}](<{e.Latest.Url.Trim()}>)")),
            PreferencesUrl => email.PreferencesUrl.Trim(),
            UnsubscribeUrl => email.UnsubscribeUrl.Trim(),
            CrisisLine => Escape(email.CrisisLine ?? email.Brand.CrisisResources),
            Name => Escape(email.Name ?? ""),
            Newsletter => Escape(email.Brand.Name),
            _ => "",
        });
        var subject = Field("subject");
        return (string.IsNullOrWhiteSpace(subject) ? $"Welcome to {OneLine(email.Brand.Name)}" : subject, Field("preheader"), Field("headline"), body);
    }

    private static string FillLine(string value, WelcomeEmail email) => Placeholder().Replace(value, m => m.Groups["name"].Value switch
    {
        Name => email.Name ?? "",
        Newsletter => email.Brand.Name,
        _ => "",
    });

    private static Parts Split(string text)
    {
        var lines = text.TrimStart('\uFEFF').ReplaceLineEndings("\n").Split('\n');
        var fields = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        var problems = new List<(int, string)>();
        if (lines.Length == 0 || lines[0].TrimEnd() != "---")
        {
            return new Parts(fields, string.Join('\n', lines), 1, problems);
        }
        var end = Array.FindIndex(lines, 1, l => l.TrimEnd() == "---");
        if (end < 0)
        {
            problems.Add((1, "the front matter that starts here is never closed with a line of ---"));
            return new Parts(fields, "", 1, problems);
        }
        for (var i = 1; i < end; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var key = colon > 0 ? line[..colon].Trim() : "";
            if (!Keys.Contains(key, StringComparer.Ordinal))
            {
                problems.Add((i + 1, colon > 0
                    ? $"unknown key '{key}' (the welcome's front matter takes {string.Join(", ", Keys)})"
                    : "expected 'key: value' (subject, preheader or headline)"));
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }
            if (fields.ContainsKey(key))
            {
                problems.Add((i + 1, $"'{key}' is given twice"));
            }
            fields[key] = (value, i + 1);
        }
        return new Parts(fields, string.Join('\n', lines[(end + 1)..]), end + 2, problems);
    }

    private static int LineOf(string text, int index)
    {
        var line = 0;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }
        return line;
    }

    /// <summary>Text as Markdown shows it literally: one line, every ASCII punctuation mark escaped.</summary>
    internal static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in OneLine(text))
        {
            if (char.IsAsciiLetterOrDigit(c) || c == ' ' || c > 127)
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('\\').Append(c);
            }
        }
        return builder.ToString();
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    [GeneratedRegex(@"\{\{\s*(?<mark>[#/]?)\s*(?<name>[^{}\s]*)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\{\{\s*#\s*latest_issues\s*\}\}(?<inner>.*?)\{\{\s*/\s*latest_issues\s*\}\}", RegexOptions.Singleline)]
    private static partial Regex Section();
}
