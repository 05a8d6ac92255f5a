using System.Globalization;
using System.Text;
using System.Text.Json;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Issues;

/// <summary>
/// An issue as the workspace's form holds it: every front-matter key as plain text (lists one item per
/// line), the body as Markdown. It is checked by writing it out as an issue file, so the browser and
/// <c>issues queue</c> share one validation; each problem's line then names the field it belongs to.
/// </summary>
public sealed class IssueForm
{
    /// <summary>The field a problem about the whole issue (rendering, size, links) is shown beside.</summary>
    public const string WholeIssue = "";

    public const string BodyField = "body";

    public string Edition { get; set; } = "";
    public string? Subject { get; set; }
    public string? Preheader { get; set; }

    /// <summary>yyyy-MM-dd, as a date input sends it; empty for "by queue order".</summary>
    public string? SendOn { get; set; }

    public string? Headline { get; set; }
    public string? Fact { get; set; }
    public string? Theme { get; set; }

    /// <summary>One source per line: <c>Title | https://…</c>, or just the address.</summary>
    public string? Sources { get; set; }

    public string? Tip { get; set; }

    /// <summary>One example per line.</summary>
    public string? Examples { get; set; }

    public string? EditionLabel { get; set; }
    public string? FeaturedPerson { get; set; }
    public string? AuthorsNote { get; set; }
    public string? Image { get; set; }
    public string? ImageAlt { get; set; }
    public string? Body { get; set; }

    /// <summary>Unticked, the front matter says <c>archive: false</c>: the issue stays out of the public archive.</summary>
    public bool Archive { get; set; } = true;

    /// <summary>The front-matter keys an edition's issues take, in the form's order, beyond subject, preheader and send_on.</summary>
    public static IReadOnlyList<string> KeysFor(EditionFormat format) => format switch
    {
        EditionFormat.Fact => ["headline", "fact", "theme", "sources"],
        EditionFormat.Tip => ["headline", "tip", "examples"],
        _ => ["headline", "edition_label", "featured_person", "authors_note", "image", "image_alt"],
    };

    public static IssueForm From(Issue issue)
    {
        var extras = JsonSerializer.Deserialize<IssueExtras>(issue.ExtrasJson, EditionEmailFactory.Json) ?? new IssueExtras();
        return new IssueForm
        {
            Edition = issue.Edition,
            Subject = issue.Subject,
            Preheader = issue.Preheader,
            SendOn = issue.SendOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Headline = extras.Headline,
            Fact = extras.Fact,
            Theme = extras.Theme,
            Sources = string.Join('\n', extras.Sources.Select(s => s.Title == s.Url ? s.Url : $"{s.Title} | {s.Url}")),
            Tip = extras.Tip,
            Examples = string.Join('\n', extras.Examples),
            EditionLabel = extras.EditionLabel,
            FeaturedPerson = extras.FeaturedPerson,
            AuthorsNote = extras.AuthorsNote,
            Image = extras.Image,
            ImageAlt = extras.ImageAlt,
            Body = issue.BodyMarkdown,
            Archive = issue.InArchive,
        };
    }

    /// <summary>The form's values as they stand, unchecked: what a draft keeps.</summary>
    public IssueExtras RawExtras() => new()
    {
        Headline = Clean(Headline),
        Fact = Clean(Fact),
        Theme = Clean(Theme),
        Sources = Lines(Sources).Select(ParseSource).ToList(),
        Tip = Clean(Tip),
        Examples = Lines(Examples).ToList(),
        EditionLabel = Clean(EditionLabel),
        FeaturedPerson = Clean(FeaturedPerson),
        AuthorsNote = Clean(AuthorsNote),
        Image = Clean(Image),
        ImageAlt = Clean(ImageAlt),
    };

    /// <summary>
    /// The form as an issue file, with the field each line came from. Only the edition's own keys are
    /// written (a value left in another format's field is not this edition's), subject always, so a
    /// missing subject is reported on its line.
    /// </summary>
    public (string Text, IReadOnlyList<string> FieldOfLine) ToFile(EditionFormat format)
    {
        var text = new StringBuilder();
        var fields = new List<string> { WholeIssue }; // index 0 is unused: lines are 1-based
        void Line(string field, string line)
        {
            text.Append(line).Append('\n');
            fields.Add(field);
        }

        Line(WholeIssue, "---");
        Line("edition", "edition: " + Quote(Edition));
        Line("subject", "subject: " + Quote(Subject ?? ""));
        foreach (var (key, value) in new[] { ("preheader", Preheader), ("send_on", SendOn) }.Concat(KeysFor(format).Select(k => (k, Value(k)))))
        {
            if (key == "sources")
            {
                var sources = Lines(Sources).ToList();
                if (sources.Count > 0)
                {
                    Line(key, "sources:");
                    foreach (var source in sources.Select(ParseSource))
                    {
                        Line(key, "  - title: " + Quote(source.Title));
                        Line(key, "    url: " + Quote(source.Url));
                    }
                }
            }
            else if (key == "examples")
            {
                var examples = Lines(Examples).ToList();
                if (examples.Count > 0)
                {
                    Line(key, "examples:");
                    examples.ForEach(e => Line(key, "  - " + Quote(e)));
                }
            }
            else if (Clean(value) is { } v)
            {
                Line(key, $"{key}: {Quote(v)}");
            }
        }
        if (!Archive)
        {
            Line("archive", "archive: false");
        }
        Line(WholeIssue, "---");
        foreach (var bodyLine in (Body ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            Line(BodyField, bodyLine);
        }
        return (text.ToString(), fields);
    }

    private string? Value(string key) => key switch
    {
        "headline" => Headline,
        "fact" => Fact,
        "theme" => Theme,
        "tip" => Tip,
        "edition_label" => EditionLabel,
        "featured_person" => FeaturedPerson,
        "authors_note" => AuthorsNote,
        "image" => Image,
        "image_alt" => ImageAlt,
        _ => null,
    };

    // A JSON string is a valid YAML double-quoted scalar: every character survives, escaped.
    private static string Quote(string value) => JsonSerializer.Serialize(value.Trim());

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static IEnumerable<string> Lines(string? value) =>
        (value ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    private static IssueSource ParseSource(string line)
    {
        var bar = line.LastIndexOf('|');
        return bar < 0 ? new IssueSource(line, line) : new IssueSource(line[..bar].Trim(), line[(bar + 1)..].Trim());
    }
}
