using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Templates;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

public class EditionRenderingTests
{
    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task Every_edition_renders_a_complete_email_document(string edition)
    {
        var email = await SampleIssues.RenderForSamAsync(SampleIssues.Edition(edition));
        var html = email.Html;

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<html lang=\"en\"", html, StringComparison.Ordinal);
        Assert.Contains("<meta charset=\"utf-8\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"color-scheme\" content=\"light dark\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"supported-color-schemes\" content=\"light dark\">", html, StringComparison.Ordinal);
        Assert.Contains("role=\"presentation\"", html, StringComparison.Ordinal);
        Assert.Matches("<table role=\"presentation\" class=\"container\" width=\"600\"", html);
        Assert.Matches("<div class=\"preheader\" style=\"display: none;", html);
        Assert.Contains($"<title>{SampleIssues.Edition(edition).Subject}</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("[[nl:", html, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task Every_edition_has_its_css_inlined_and_keeps_only_media_queries_in_a_style_block(string edition)
    {
        var html = (await SampleIssues.RenderForSamAsync(SampleIssues.Edition(edition))).Html;

        Assert.True(Regex.Count(html, " style=\"") > 20, "expected the CSS rules to be written onto the elements");
        Assert.Contains("class=\"headline\" style=\"", html, StringComparison.Ordinal);
        var styleBlock = Regex.Match(html, "<style>(.*?)</style>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("@media (prefers-color-scheme: dark)", styleBlock, StringComparison.Ordinal);
        Assert.Contains("@media only screen and (max-width: 620px)", styleBlock, StringComparison.Ordinal);
        Assert.DoesNotContain(".footer p {", styleBlock, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task Every_edition_has_a_footer_with_sign_off_disclaimer_crisis_line_address_and_unsubscribe_link(string edition)
    {
        var model = SampleIssues.Edition(edition);
        var email = await SampleIssues.RenderForSamAsync(model);
        var footer = email.Html[email.Html.IndexOf("class=\"signoff\"", StringComparison.Ordinal)..];

        Assert.Contains("Be gentle with yourself this week.<br>The Steady Ground team", footer, StringComparison.Ordinal);
        Assert.Contains(SampleIssues.Brand.Disclaimer, footer, StringComparison.Ordinal);
        Assert.Contains(SampleIssues.Brand.CrisisResources, footer, StringComparison.Ordinal);
        Assert.Contains("Steady Ground, 120 Harbor Lane, Suite 4<br>Portland, ME 04101, USA", footer, StringComparison.Ordinal);
        Assert.Matches(
            $"<a href=\"{Regex.Escape(SampleIssues.Sam().UnsubscribeUrl)}\"[^>]*>Unsubscribe from {model.EditionName}</a>",
            footer);
    }

    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task Every_edition_has_a_plain_text_part_with_subject_body_footer_and_unsubscribe_link(string edition)
    {
        var model = SampleIssues.Edition(edition);
        var text = (await SampleIssues.RenderForSamAsync(model)).Text;

        Assert.StartsWith($"Steady Ground · {model.EditionName}\n", text, StringComparison.Ordinal);
        Assert.Contains(model.Subject, text, StringComparison.Ordinal);
        Assert.Contains("Hi Sam,", text, StringComparison.Ordinal);
        Assert.Contains(EmailMarkdown.ToPlainText(model.BodyMarkdown), text, StringComparison.Ordinal);
        Assert.Contains("Be gentle with yourself this week.\nThe Steady Ground team", text, StringComparison.Ordinal);
        Assert.Contains("This newsletter shares information, not professional advice.", text, StringComparison.Ordinal);
        Assert.Contains("call or text\n988 in the US", text, StringComparison.Ordinal);
        Assert.Contains("Portland, ME 04101, USA", text, StringComparison.Ordinal);
        Assert.Contains($"Unsubscribe: {SampleIssues.Sam().UnsubscribeUrl}\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= 80 || !line.Contains(' ', StringComparison.Ordinal), $"line too long: {line}"));
    }

    [Fact]
    public async Task Fact_of_the_week_shows_its_theme_headline_fact_why_it_matters_and_sources()
    {
        var email = await SampleIssues.RenderForSamAsync(SampleIssues.Fact());

        Assert.Matches("<p class=\"kicker theme\"[^>]*>May is Mental Health Awareness Month</p>", email.Html);
        Assert.Matches("<h1 class=\"headline\"[^>]*>Sleep and Mood Talk to Each Other</h1>", email.Html);
        Assert.Matches("<p class=\"fact\"[^>]*>A few nights of short sleep", email.Html);
        Assert.Matches("<h2[^>]*>Why it matters</h2>", email.Html);
        Assert.Matches("<li[^>]*>Dim the screens an hour before bed</li>", email.Html);
        Assert.Matches("<a href=\"https://research.example.org/sleep-and-mood\"[^>]*>Sleep and mental health: an overview</a>", email.Html);

        Assert.Contains("May is Mental Health Awareness Month\n\nSleep and Mood Talk to Each Other\n\nA few nights", email.Text, StringComparison.Ordinal);
        Assert.Contains("Sources:\n- Sleep and mental health: an overview\n  (https://research.example.org/sleep-and-mood)", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fact_of_the_week_leaves_out_the_theme_line_when_there_is_none_and_uses_the_subject_as_headline()
    {
        var model = SampleIssues.Fact(theme: null, headline: null);
        var email = await SampleIssues.RenderForSamAsync(model);

        Assert.DoesNotContain("class=\"kicker theme\"", email.Html, StringComparison.Ordinal);
        Assert.Matches($"<h1 class=\"headline\"[^>]*>{Regex.Escape(model.Subject)}</h1>", email.Html);
        Assert.Equal(1, Regex.Count(email.Text, Regex.Escape(model.Subject)));
    }

    [Fact]
    public async Task Tip_of_the_week_shows_the_tip_and_lists_what_it_could_be()
    {
        var email = await SampleIssues.RenderForSamAsync(SampleIssues.Tip());

        Assert.Matches("<h1 class=\"headline\"[^>]*>Pick Today's Small Win</h1>", email.Html);
        Assert.Matches("<p class=\"tip\"[^>]*>Choose one small task", email.Html);
        Assert.Matches("<strong>It could be:</strong>", email.Html);
        Assert.Matches("<ul class=\"examples\"[^>]*>\\s*<li[^>]*>Watering the plants</li>", email.Html);
        Assert.Matches("<strong>Small wins add up.</strong>", email.Html);

        Assert.Contains("It could be:\n- Watering the plants\n- Replying to one message\n- Stepping outside for five minutes\n- Eating a proper lunch\n", email.Text, StringComparison.Ordinal);
        Assert.Contains("Small wins add up. They give your mind", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spotlight_shows_its_edition_label_featured_person_authors_note_and_image_with_alt_text()
    {
        var email = await SampleIssues.RenderForSamAsync(SampleIssues.Spotlight());

        Assert.Matches("<p class=\"kicker edition-label\"[^>]*>June 2026 Edition</p>", email.Html);
        Assert.Contains("Feature Spotlight: Maya Okafor", email.Html, StringComparison.Ordinal);
        Assert.Matches("<p class=\"authors-note\"[^>]*><strong>Author’s note:</strong> I spoke with Maya", email.Html);
        Assert.Matches(
            "<img class=\"feature-image\" src=\"https://steadyground.example.org/images/maya-garden.jpg\" alt=\"Maya kneeling in her vegetable garden, smiling at the camera\" width=\"520\"",
            email.Html);
        Assert.Matches("<blockquote[^>]*>", email.Html);

        Assert.Contains("June 2026 Edition\n\nFeature Spotlight: Maya Okafor\n\nLearning to Rest Without Guilt", email.Text, StringComparison.Ordinal);
        Assert.Contains("[Image: Maya kneeling in her vegetable garden, smiling at the camera]", email.Text, StringComparison.Ordinal);
        Assert.Contains("Author's note: I spoke with Maya", email.Text, StringComparison.Ordinal);
        Assert.Contains("> \"I didn't need to earn the rest,\"", email.Text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task Every_image_has_alt_text_and_every_link_is_an_absolute_https_address(string edition)
    {
        var html = (await SampleIssues.RenderForSamAsync(SampleIssues.Edition(edition))).Html;

        foreach (Match image in Regex.Matches(html, "<img [^>]*>"))
        {
            Assert.Matches("alt=\"[^\"]+\"", image.Value);
        }

        var hrefs = Regex.Matches(html, "href=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(hrefs);
        Assert.All(hrefs, href => Assert.StartsWith("https://", href, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Words_from_the_model_are_html_encoded()
    {
        var model = SampleIssues.Fact(headline: "Rest & recovery: <b>not</b> a reward");
        var html = (await SampleIssues.RenderForSamAsync(model)).Html;

        Assert.Contains("Rest &amp; recovery: &lt;b&gt;not&lt;/b&gt; a reward", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>not</b>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_html_in_the_body_is_shown_as_text_and_never_passed_through()
    {
        var model = SampleIssues.Fact(body: "Before\n\n<script>alert('hi')</script>\n\nAfter <img src=x onerror=alert(1)> the break.");
        var html = (await SampleIssues.RenderForSamAsync(model)).Html;

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img src=\"x\"", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_javascript_or_relative_link_in_the_body_is_reduced_to_its_words()
    {
        var model = SampleIssues.Fact(body: "Try [this one](javascript:alert(1)) or [that one](/posts/rest) or [the good one](https://steadyground.example.org/ok).");
        var email = await SampleIssues.RenderForSamAsync(model);

        Assert.DoesNotContain("javascript:", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/posts/rest\"", email.Html, StringComparison.Ordinal);
        Assert.Contains("Try this one or that one or <a href=\"https://steadyground.example.org/ok\"", email.Html, StringComparison.Ordinal);
        Assert.Contains("Try this one or that one or the good one\n(https://steadyground.example.org/ok).", email.Text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SampleIssues.EditionNames), MemberType = typeof(SampleIssues))]
    public async Task The_html_byte_count_is_close_to_a_real_recipients_email_and_well_under_gmails_clip(string edition)
    {
        var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Edition(edition));
        var real = Encoding.UTF8.GetByteCount(prepared.Personalize(SampleIssues.Sam()).Html);

        Assert.InRange(prepared.HtmlByteCount, 5_000, PreparedEmail.GmailClipBytes);
        Assert.InRange(prepared.HtmlByteCount, real, real + 600);
        Assert.False(prepared.IsOverGmailClip);
        Assert.True(prepared.TextByteCount > 500);
    }

    [Fact]
    public async Task A_very_long_issue_is_flagged_as_over_gmails_clip()
    {
        var paragraph = "Some weeks are heavy, and that is allowed. We keep going one small step at a time. ";
        var body = string.Join("\n\n", Enumerable.Repeat(string.Concat(Enumerable.Repeat(paragraph, 10)), 150));
        var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Fact(body: body));

        Assert.True(prepared.HtmlByteCount > PreparedEmail.GmailClipBytes);
        Assert.True(prepared.IsOverGmailClip);
    }

    [Fact]
    public async Task The_prepared_email_carries_the_issue_subject_and_edition_key()
    {
        var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Tip());

        Assert.Equal("Tip of the Week: let one small thing count", prepared.Subject);
        Assert.Equal("weekly-tip", prepared.EditionKey);
        Assert.Equal(prepared.Subject, prepared.Personalize(SampleIssues.Sam()).Subject);
    }

    [Fact]
    public async Task A_spotlight_image_without_alt_text_is_refused_in_plain_words()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SampleIssues.Renderer.PrepareAsync(SampleIssues.Spotlight(imageAlt: " ")));

        Assert.Contains("alt text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_without_a_full_web_address_is_refused_in_plain_words()
    {
        var model = SampleIssues.Fact();
        var broken = new FactOfTheWeekEmail
        {
            EditionKey = model.EditionKey,
            EditionName = model.EditionName,
            Subject = model.Subject,
            BodyMarkdown = model.BodyMarkdown,
            IssueDate = model.IssueDate,
            Brand = model.Brand,
            Sources = [new SourceLink("Our own notes", "/notes")],
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => SampleIssues.Renderer.PrepareAsync(broken));

        Assert.Contains("Our own notes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warming_up_compiles_every_template_and_every_edition_renders_from_them()
    {
        await SampleIssues.Renderer.WarmUpAsync();

        foreach (var edition in new[] { "fact", "tip", "spotlight" })
        {
            var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Edition(edition));
            Assert.Contains("</html>", prepared.Personalize(new PersonalFields("Sam", "https://example.org/u/t")).Html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Adding_newsletter_templates_registers_one_shared_renderer()
    {
        var services = new ServiceCollection().AddNewsletterTemplates().AddNewsletterTemplates();
        using var provider = services.BuildServiceProvider();

        var first = provider.GetRequiredService<IEmailRenderer>();
        Assert.IsType<RazorEmailRenderer>(first);
        Assert.Same(first, provider.GetRequiredService<IEmailRenderer>());
        Assert.Single(services, d => d.ServiceType == typeof(IEmailRenderer));
    }
}
