using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// The words of the sign-up emails, in one place so the HTML template and the text part say the
/// same thing. Public because the compiled Razor template calls it.
/// </summary>
public static class ConfirmationCopy
{
    public static string Subject(ConfirmationEmail email) => email.Kind == ConfirmationKind.ConfirmSubscription
        ? $"Please confirm your subscription to {OneLine(email.Brand.Name)}"
        : $"You're already subscribed to {OneLine(email.Brand.Name)}";

    public static string Preheader(ConfirmationEmail email) => email.Kind == ConfirmationKind.ConfirmSubscription
        ? "One click and you're in. If this wasn't you, you can ignore this email."
        : "Nothing has changed: you already get these editions.";

    public static string Greeting(ConfirmationEmail email)
    {
        var name = OneLine(email.Name);
        return name.Length == 0 ? "Hi there," : $"Hi {name},";
    }

    public static IReadOnlyList<string> Opening(ConfirmationEmail email) => email.Kind == ConfirmationKind.ConfirmSubscription
        ?
        [
            $"Thank you for wanting {OneLine(email.Brand.Name)} in your inbox. Before we send you anything, we'd like to be sure it was really you who asked.",
            $"You chose: {Editions(email)}.",
        ]
        :
        [
            $"Someone, most likely you, asked to subscribe this address to {Editions(email)}. Good news: you already get {(email.EditionNames.Count == 1 ? "it" : "them")}, so nothing has changed.",
            "If you'd like to add or drop an edition, or change the name we greet you by, your preferences are one click away.",
        ];

    public static string ButtonText(ConfirmationEmail email) =>
        email.Kind == ConfirmationKind.ConfirmSubscription ? "Yes, subscribe me" : "Manage your editions";

    public static string LinkNote(ConfirmationEmail email) => email.Kind == ConfirmationKind.ConfirmSubscription
        ? $"The button works for {email.LinkLifetimeDays} {(email.LinkLifetimeDays == 1 ? "day" : "days")}. If it doesn't open, copy this address into your browser:"
        : "If the button doesn't open, copy this address into your browser:";

    public static string Closing(ConfirmationEmail email) => email.Kind == ConfirmationKind.ConfirmSubscription
        ? "Didn't sign up? Then someone typed your address by mistake, and you don't need to do anything. Without your confirmation we won't write to you again."
        : "If it wasn't you who asked, you can ignore this email. We haven't changed anything.";

    public static string Editions(ConfirmationEmail email)
    {
        var names = email.EditionNames.Select(OneLine).Where(n => n.Length > 0).ToList();
        return names.Count switch
        {
            0 => "our newsletter",
            1 => names[0],
            _ => string.Join(", ", names[..^1]) + " and " + names[^1],
        };
    }

    public static IReadOnlyList<string> AddressLines(ConfirmationEmail email) => TemplateText.Lines(email.Brand.PostalAddress);

    /// <summary>The text/plain part.</summary>
    internal static string PlainText(ConfirmationEmail email)
    {
        var lines = new List<string> { OneLine(email.Brand.Name), "", Greeting(email), "" };
        foreach (var paragraph in Opening(email))
        {
            lines.AddRange(EmailMarkdown.Wrap(paragraph, EmailMarkdown.TextWidth));
            lines.Add("");
        }
        lines.Add($"{ButtonText(email)}:");
        lines.Add(email.ActionUrl);
        lines.Add("");
        if (email.Kind == ConfirmationKind.ConfirmSubscription)
        {
            lines.AddRange(EmailMarkdown.Wrap($"The link works for {email.LinkLifetimeDays} {(email.LinkLifetimeDays == 1 ? "day" : "days")}.", EmailMarkdown.TextWidth));
            lines.Add("");
        }
        lines.AddRange(EmailMarkdown.Wrap(Closing(email), EmailMarkdown.TextWidth));
        lines.Add("");
        lines.Add("-- ");
        if (!string.IsNullOrWhiteSpace(email.Brand.CrisisResources))
        {
            // Every email ends with where to find help, the sign-up emails too.
            lines.AddRange(EmailMarkdown.Wrap(OneLine(email.Brand.CrisisResources), EmailMarkdown.TextWidth));
            lines.Add("");
        }
        lines.AddRange(TemplateText.Lines(email.Brand.PostalAddress));
        return string.Join('\n', lines) + "\n";
    }

    private static string OneLine(string? text) =>
        string.IsNullOrWhiteSpace(text) ? "" : string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
