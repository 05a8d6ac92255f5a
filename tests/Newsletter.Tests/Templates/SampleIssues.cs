using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

/// <summary>Sample brand and one issue of each edition, written in the blog's warm, plain voice.</summary>
internal static class SampleIssues
{
    public const string BaseUrl = "https://steadyground.example.org";

    /// <summary>One renderer for the whole test run, as in the real process.</summary>
    public static RazorEmailRenderer Renderer { get; } = new();

    public static NewsletterBrand Brand { get; } = new()
    {
        Name = "Steady Ground",
        PublicBaseUrl = BaseUrl,
        SignOff = "Be gentle with yourself this week.\nThe Steady Ground team",
        Disclaimer = "This newsletter shares information, not professional advice. For guidance about your own situation, please talk with a licensed mental health professional.",
        CrisisResources = "If you are in crisis or thinking about ending your life, call or text 988 in the US, or your local emergency number, right now.",
        PostalAddress = "Steady Ground, 120 Harbor Lane, Suite 4\nPortland, ME 04101, USA",
        Language = "en",
    };

    public static DateOnly IssueDate { get; } = new(2026, 5, 14);

    public static FactOfTheWeekEmail Fact(
        string? theme = "May is Mental Health Awareness Month",
        string? headline = "Sleep and Mood Talk to Each Other",
        string? body = null) => new()
        {
            EditionKey = "weekly-fact",
            EditionName = "Fact of the Week",
            Subject = "Fact of the Week: sleep and mood are closer than you think",
            Preheader = "Why a rough night can make a hard day feel heavier.",
            Headline = headline,
            Theme = theme,
            Fact = "A few nights of short sleep can make everyday worries feel bigger, and a low mood can make sleep harder to find.",
            BodyMarkdown = body ?? """
                It works in both directions, which is why a rough week can start to feel like a loop.

                ## Why it matters

                Knowing the loop is there lets you step into it kindly:

                - Keep a steady wake-up time, even after a bad night
                - Dim the screens an hour before bed
                - Jot down the 2 a.m. thoughts so they can wait until morning

                There is more in our post on [resting when your mind won't](https://steadyground.example.org/posts/resting).
                """,
            IssueDate = IssueDate,
            Brand = Brand,
            Sources =
            [
                new SourceLink("Sleep and mental health: an overview", "https://research.example.org/sleep-and-mood"),
                new SourceLink("How rest supports emotional balance", "https://health.example.org/rest"),
            ],
        };

    public static TipOfTheWeekEmail Tip() => new()
    {
        EditionKey = "weekly-tip",
        EditionName = "Tip of the Week",
        Subject = "Tip of the Week: let one small thing count",
        Headline = "Pick Today's Small Win",
        Tip = "Choose one small task you can finish today, and let finishing it be enough.",
        Examples = ["Watering the plants", "Replying to one message", "Stepping outside for five minutes", "Eating a proper lunch"],
        BodyMarkdown = """
            ## Why it helps

            On heavy days a long list can feel like proof that we are falling behind. One finished thing is proof of something else: that we showed up.

            **Small wins add up.** They give your mind a kinder story to tell about the day.
            """,
        IssueDate = IssueDate,
        Brand = Brand,
    };

    public static SpotlightEmail Spotlight(string? imageAlt = "Maya kneeling in her vegetable garden, smiling at the camera") => new()
    {
        EditionKey = "monthly-spotlight",
        EditionName = "Monthly Spotlight",
        Subject = "Spotlight: Maya on rebuilding after burnout",
        Headline = "Learning to Rest Without Guilt",
        EditionLabel = "June 2026 Edition",
        FeaturedPerson = "Maya Okafor",
        AuthorsNote = "I spoke with Maya over two long phone calls this spring. She read this piece before it went out and chose to share it here.",
        ImageUrl = "https://steadyground.example.org/images/maya-garden.jpg",
        ImageAlt = imageAlt,
        BodyMarkdown = """
            For years Maya measured a good day by how little of it was left for herself.

            ### Finding the edges

            The turning point was not dramatic. *It was a Tuesday*, a missed lunch, and a friend who asked how she was really doing.

            > "I didn't need to earn the rest," she told me. "I needed to let myself have it."

            Today she keeps one evening a week free of plans, and she guards it.
            """,
        IssueDate = IssueDate,
        Brand = Brand,
    };

    public static TheoryData<string> EditionNames => new() { "fact", "tip", "spotlight" };

    public static EditionEmail Edition(string name) => name switch
    {
        "fact" => Fact(),
        "tip" => Tip(),
        "spotlight" => Spotlight(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public static PersonalFields Sam(string? preferencesUrl = BaseUrl + "/preferences?t=pref-sam") =>
        new("Sam", BaseUrl + "/unsubscribe?t=tok-sam", preferencesUrl);

    public static async Task<RenderedEmail> RenderForSamAsync(EditionEmail email)
    {
        var prepared = await Renderer.PrepareAsync(email);
        return prepared.Personalize(Sam());
    }
}
