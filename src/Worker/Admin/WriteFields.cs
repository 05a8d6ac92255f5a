using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;

namespace Newsletter.Worker.Admin;

/// <summary>One field of the issue form: its front-matter key (problems name it), label, form name and value.</summary>
public sealed record WriteField(string Key, string Label, string Name, string? Value, string? Hint = null, bool Multiline = false, string Type = "text");

/// <summary>The issue form's fields for an edition's format, in the order an editor fills them.</summary>
public static class WriteFields
{
    public static IReadOnlyList<WriteField> For(IssueForm form, EditionFormat format)
    {
        var fields = new List<WriteField>
        {
            new("subject", "Subject", "Form.Subject", form.Subject, $"Up to {IssueFile.MaxSubjectLength} characters."),
            new("preheader", "Preheader", "Form.Preheader", form.Preheader, "The line an inbox shows after the subject."),
            new("send_on", "Send on (optional)", "Form.SendOn", form.SendOn, "Pins the issue to that day's slot; leave empty to go out in queue order.", Type: "date"),
        };
        foreach (var key in IssueForm.KeysFor(format))
        {
            fields.Add(key switch
            {
                "headline" => new(key, "Headline", "Form.Headline", form.Headline),
                "fact" => new(key, "The fact", "Form.Fact", form.Fact, Multiline: true),
                "theme" => new(key, "Theme", "Form.Theme", form.Theme),
                "sources" => new(key, "Sources", "Form.Sources", form.Sources, "One per line: a title, a bar, then the address (Title | https://…), or just the address.", Multiline: true),
                "tip" => new(key, "The tip", "Form.Tip", form.Tip, Multiline: true),
                "examples" => new(key, "Examples", "Form.Examples", form.Examples, "One per line.", Multiline: true),
                "edition_label" => new(key, "Edition label", "Form.EditionLabel", form.EditionLabel),
                "featured_person" => new(key, "Featured person", "Form.FeaturedPerson", form.FeaturedPerson),
                "authors_note" => new(key, "Author's note", "Form.AuthorsNote", form.AuthorsNote, Multiline: true),
                "image" => new(key, "Image", "Form.Image", form.Image, "An absolute https address.", Type: "url"),
                _ => new(key, "Image description (alt text)", "Form.ImageAlt", form.ImageAlt, "What the image shows, for readers who cannot see it."),
            });
        }
        return fields;
    }
}
