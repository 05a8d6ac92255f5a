using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Newsletter.Worker.Issues;

/// <summary>
/// The bounds an issue file is held to before it is parsed: its size, and a front matter without anchors or aliases
/// (an alias bomb) and not nested deeper than any key needs (deep nesting would exhaust the YAML loader's stack).
/// </summary>
public static class IssueFileLimits
{
    /// <summary>An issue is a few kilobytes of Markdown; the email must stay under Gmail's ~102 KB clip anyway.</summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>The deepest shape a key needs is 'sources': a list of title/url pairs in the front matter's mapping.</summary>
    public const int MaxFrontMatterDepth = 4;

    /// <summary>Reads an issue file, refusing one over <see cref="MaxBytes"/> without reading it.</summary>
    public static async Task<(string? Text, string? Problem)> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxBytes)
            {
                return (null, $"{path}: {TooLarge(length)}");
            }
            return (await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"{path}: cannot read the file: {ex.Message}");
        }
    }

    public static string TooLarge(long bytes) =>
        $"the file is {(bytes + 1023) / 1024} KB; an issue file is at most {MaxBytes / 1024} KB";

    /// <summary>The first anchor, alias or too-deep nesting in the front matter (which starts on file line 2), or null.
    /// Malformed YAML is left to the loader, which reports it with its line.</summary>
    public static IssueProblem? CheckFrontMatter(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                var line = (int)current.Start.Line + 1;
                switch (current)
                {
                    case AnchorAlias:
                    case NodeEvent { Anchor.IsEmpty: false }:
                        return new IssueProblem(line, "the front matter uses a YAML anchor or alias ('&name' or '*name'); write each value out in full");
                    case MappingStart or SequenceStart when ++depth > MaxFrontMatterDepth:
                        return new IssueProblem(line, string.Create(CultureInfo.InvariantCulture,
                            $"the front matter is nested more than {MaxFrontMatterDepth} levels deep; no key needs more than 'sources' (a list of title/url pairs)"));
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException)
        {
            return null;
        }
        return null;
    }
}
