using Newsletter.Templates.Models;

namespace Newsletter.Templates.Rendering;

/// <summary>A sample of every email, rendered by the template check with the newsletter's own brand.</summary>
internal static class TemplateSamples
{
    private static readonly DateOnly Date = new(2026, 3, 12);

    private const string Body = """
        Most of us notice our breathing only when something is wrong. A slower breath is one of the few
        things that can calm the body from the inside, and it is always with you.

        ## Why it helps

        - A longer breath out tells the body it is safe to settle
        - It takes less than a minute
        - Nobody around you needs to notice

        There is more on our blog, in [a short guide to steadier breathing](https://example.org/breathing).
        """;

    public static IEnumerable<EditionEmail> Editions(NewsletterBrand brand) =>
    [
        new FactOfTheWeekEmail
        {
            EditionKey = "sample-fact", EditionName = "Fact of the Week", Subject = "A sample fact", Preheader = "A sample preheader",
            Headline = "A breath out is a small reset", Theme = "A sample theme", BodyMarkdown = Body, IssueDate = Date, Brand = brand,
            Fact = "Breathing out slowly for a minute can ease a racing heart.",
            Sources = [new SourceLink("A sample source", "https://example.org/source")],
        },
        new TipOfTheWeekEmail
        {
            EditionKey = "sample-tip", EditionName = "Tip of the Week", Subject = "A sample tip", BodyMarkdown = Body, IssueDate = Date, Brand = brand,
            Tip = "Breathe in for four, out for six, three times.", Examples = ["Before opening your inbox", "While the kettle boils"],
        },
        new SpotlightEmail
        {
            EditionKey = "sample-spotlight", EditionName = "Monthly Spotlight", Subject = "A sample spotlight", BodyMarkdown = Body, IssueDate = Date,
            Brand = brand, EditionLabel = "March 2026 Edition", FeaturedPerson = "A sample reader", AuthorsNote = "A sample note.",
            ImageUrl = "https://example.org/image.jpg", ImageAlt = "A sample picture",
        },
    ];

    public static ConfirmationEmail Confirmation(NewsletterBrand brand) => new()
    {
        Kind = ConfirmationKind.ConfirmSubscription,
        Brand = brand,
        Name = "Sam",
        EditionNames = ["Tip of the Week"],
        ActionUrl = $"{brand.PublicBaseUrl.TrimEnd('/')}/confirm/sample-token",
    };

    public static WelcomeEmail Welcome(NewsletterBrand brand) => new()
    {
        Brand = brand,
        Name = "Sam",
        Editions =
        [
            new WelcomeEdition("Fact of the Week", "every Monday morning",
                new WelcomeIssueLink("A sample fact", $"{brand.PublicBaseUrl.TrimEnd('/')}/archive/weekly-fact/2026-03-09-a-sample-fact")),
            new WelcomeEdition("Tip of the Week", "every Thursday morning"),
        ],
        PreferencesUrl = PersonalLinks(brand).PreferencesUrl!,
        UnsubscribeUrl = PersonalLinks(brand).UnsubscribeUrl,
        Date = Date,
    };

    public static PersonalFields PersonalLinks(NewsletterBrand brand)
    {
        var site = brand.PublicBaseUrl.TrimEnd('/');
        return new PersonalFields("Sam", $"{site}/unsubscribe/sample-token", $"{site}/preferences/sample-token");
    }
}
