using System.Text.Json;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Cli;

/// <summary>An issue's edition-specific front matter as the editor wrote it: one labelled line per key.</summary>
internal static class IssueDisplay
{
    public static IEnumerable<string> ExtrasLines(string extrasJson)
    {
        var x = JsonSerializer.Deserialize<IssueExtras>(extrasJson, EditionEmailFactory.Json) ?? new IssueExtras();
        foreach (var (key, value) in new (string, string?)[]
                 {
                     ("headline", x.Headline), ("fact", x.Fact), ("tip", x.Tip), ("theme", x.Theme),
                     ("edition_label", x.EditionLabel), ("featured_person", x.FeaturedPerson), ("authors_note", x.AuthorsNote),
                     ("image", x.Image), ("image_alt", x.ImageAlt),
                 })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                yield return $"  {key + ":",-16} {value}";
            }
        }
        if (x.Examples.Count > 0)
        {
            yield return "  examples:";
            foreach (var example in x.Examples)
            {
                yield return $"    - {example}";
            }
        }
        if (x.Sources.Count > 0)
        {
            yield return "  sources:";
            foreach (var source in x.Sources)
            {
                yield return string.IsNullOrWhiteSpace(source.Title) || source.Title == source.Url
                    ? $"    - {source.Url}"
                    : $"    - {source.Title} <{source.Url}>";
            }
        }
    }
}
