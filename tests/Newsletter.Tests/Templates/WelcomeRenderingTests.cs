using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

/// <summary>The built-in welcome through the edition layout: the same footer and lint as every edition, and what
/// a reader typed as their name stays text.</summary>
public sealed class WelcomeRenderingTests
{
    private static WelcomeEmail Welcome(string? name = "Sam", bool withLatest = true) => new()
    {
        Brand = SampleIssues.Brand,
        Name = name,
        Editions =
        [
            new WelcomeEdition("Fact of the Week", "every Monday morning (9:00, New York time)",
                withLatest ? new WelcomeIssueLink("Sleep & mood *talk*", $"{SampleIssues.BaseUrl}/archive/weekly-fact/2026-05-11-sleep") : null),
            new WelcomeEdition("Tip of the Week", "every Thursday morning (9:00, New York time)"),
        ],
        PreferencesUrl = $"{SampleIssues.BaseUrl}/preferences/abc",
        UnsubscribeUrl = $"{SampleIssues.BaseUrl}/unsubscribe/abc",
        Date = SampleIssues.IssueDate,
    };

    [Fact]
    public async Task The_built_in_welcome_passes_the_lint_every_edition_passes()
    {
        var email = await SampleIssues.Renderer.RenderWelcomeAsync(Welcome());

        Assert.Empty(EmailLint.Check(email, new EmailLintExpectations(
            $"{SampleIssues.BaseUrl}/unsubscribe/abc", SampleIssues.Brand.PostalAddress, SampleIssues.Brand.Disclaimer, SampleIssues.BaseUrl)));
        Assert.Contains($"href=\"{SampleIssues.BaseUrl}/preferences/abc\"", email.Html, StringComparison.Ordinal);
        Assert.Contains($"href=\"{SampleIssues.BaseUrl}/archive/weekly-fact/2026-05-11-sleep\"", email.Html, StringComparison.Ordinal);
        Assert.Contains("Sleep &amp; mood *talk*", email.Html, StringComparison.Ordinal);
        Assert.Contains(SampleIssues.Brand.CrisisResources, string.Join(' ', email.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_written_as_Markdown_or_HTML_stays_text()
    {
        var email = await SampleIssues.Renderer.RenderWelcomeAsync(Welcome(name: "<b>Al</b> [win](https://evil.example.org)"));

        Assert.DoesNotContain("evil.example.org\"", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Al</b>", email.Html, StringComparison.Ordinal);
        Assert.Contains("Hi &lt;b&gt;Al&lt;/b&gt; [win](https://evil.example.org),", email.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reader_name_placeholder_is_escaped_into_Markdown_text() =>
        Assert.Equal(@"\[win\]\(https\:\/\/x\.org\) \*A\*", WelcomeText.Escape("[win](https://x.org)\n*A*"));
}
