using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// The text/plain part, written from the model and the Markdown syntax tree — never scraped from the
/// HTML — so it reads like a letter: header, subject, the edition's own parts, body, sign-off and the
/// footer with the recipient's links. Lines end with <c>\n</c>; MimeKit turns them into CRLF.
/// </summary>
internal static class PlainTextEmail
{
    private const int Width = EmailMarkdown.TextWidth;

    public static string Compose(EditionEmail email, EmailPageData page, string bodyText, SlotTokens slots)
    {
        var lines = new List<string>
        {
            $"{email.Brand.Name} · {email.EditionName}",
            page.IssueDate,
            "",
        };
        if (!string.IsNullOrWhiteSpace(email.WebUrl))
        {
            lines.AddRange([$"Trouble reading this email? View it on the web: {email.WebUrl}", ""]);
        }
        lines.AddRange(
        [
            email.Subject.Trim(),
            new string('=', Math.Min(Width, email.Subject.Trim().Length)),
            "",
            slots.Greeting,
            "",
        ]);

        switch (email)
        {
            case FactOfTheWeekEmail fact:
                Paragraph(lines, fact.Theme);
                Paragraph(lines, DistinctHeadline(email, page));
                Paragraph(lines, fact.Fact);
                break;
            case TipOfTheWeekEmail tip:
                Paragraph(lines, DistinctHeadline(email, page));
                Paragraph(lines, tip.Tip);
                if (tip.Examples.Count > 0)
                {
                    lines.Add("It could be:");
                    foreach (var example in tip.Examples.Where(e => !string.IsNullOrWhiteSpace(e)))
                    {
                        Wrapped(lines, example.Trim(), "- ", "  ");
                    }

                    lines.Add("");
                }

                break;
            case SpotlightEmail spotlight:
                Paragraph(lines, spotlight.EditionLabel);
                Paragraph(lines, string.IsNullOrWhiteSpace(spotlight.FeaturedPerson) ? null : $"Feature Spotlight: {spotlight.FeaturedPerson.Trim()}");
                Paragraph(lines, DistinctHeadline(email, page));
                Paragraph(lines, string.IsNullOrWhiteSpace(spotlight.ImageUrl) ? null : $"[Image: {spotlight.ImageAlt?.Trim()}]");
                Paragraph(lines, string.IsNullOrWhiteSpace(spotlight.AuthorsNote) ? null : $"Author's note: {spotlight.AuthorsNote.Trim()}");
                break;
        }

        if (bodyText.Length > 0)
        {
            lines.Add(bodyText);
            lines.Add("");
        }

        if (email is FactOfTheWeekEmail { Sources.Count: > 0 } withSources)
        {
            lines.Add("Sources:");
            foreach (var source in withSources.Sources)
            {
                // A source given only as its address is written once, not as "url (url)".
                var title = source.Title.Trim();
                var url = source.Url.Trim();
                Wrapped(lines, string.Equals(title, url, StringComparison.Ordinal) ? url : $"{title} ({url})", "- ", "  ");
            }

            lines.Add("");
        }

        lines.AddRange(TemplateText.Lines(email.Brand.SignOff));
        lines.Add("");
        lines.Add("-- ");
        Paragraph(lines, email.Brand.Disclaimer);
        // The reader's own region's line, filled (and wrapped) per recipient.
        lines.Add(slots.CrisisLine);
        lines.Add("");
        lines.AddRange(TemplateText.Lines(email.Brand.PostalAddress));
        lines.Add("");
        lines.Add($"Unsubscribe: {slots.UnsubscribeUrl}");

        // The conditional line carries its own newline, so leaving it out leaves no gap.
        return string.Join('\n', lines) + "\n"
            + slots.IfPreferences + $"Manage your editions: {slots.PreferencesUrl}\n" + slots.EndPreferences;
    }

    /// <summary>The headline, unless it only repeats the subject already at the top.</summary>
    private static string? DistinctHeadline(EditionEmail email, EmailPageData page) =>
        string.Equals(page.Headline.Trim(), email.Subject.Trim(), StringComparison.Ordinal) ? null : page.Headline;

    private static void Paragraph(List<string> lines, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        foreach (var line in TemplateText.Lines(text))
        {
            Wrapped(lines, line, "", "");
        }

        lines.Add("");
    }

    private static void Wrapped(List<string> lines, string text, string firstPrefix, string restPrefix)
    {
        var prefix = firstPrefix;
        foreach (var line in EmailMarkdown.Wrap(text, Width - restPrefix.Length))
        {
            lines.Add(prefix + line);
            prefix = restPrefix;
        }
    }
}

/// <summary>Small text helpers shared by the templates and the text part.</summary>
internal static class TemplateText
{
    /// <summary>A configured multi-line value (sign-off, postal address) as its non-empty, trimmed lines.</summary>
    public static IReadOnlyList<string> Lines(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
