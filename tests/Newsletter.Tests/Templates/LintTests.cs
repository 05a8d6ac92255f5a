using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;

namespace Newsletter.Tests.Templates;

/// <summary>Queuing renders the issue and refuses it, with its own reason for each thing missing or wrong.</summary>
public sealed class LintTests
{
    private static EmailLintExpectations Expected(NewsletterOptions? brand = null)
    {
        var b = brand ?? MessageKit.Newsletter();
        return new EmailLintExpectations(MessageKit.UnsubscribeUrl(), b.PostalAddress, b.Disclaimer, b.BaseUrl);
    }

    private static IReadOnlyList<string> Codes(RenderedEmail email, EmailLintExpectations? expected = null) =>
        EmailLint.Check(email, expected ?? Expected()).Select(p => p.Code).ToList();

    [Theory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task Every_sample_issue_passes_the_lint(string edition)
    {
        var email = await MessageKit.RenderAsync(edition);

        Assert.Empty(EmailLint.Check(email, Expected()));
    }

    [Fact]
    public async Task An_email_without_its_unsubscribe_link_in_the_html_is_refused_for_that_reason_alone()
    {
        var email = await MessageKit.RenderAsync("weekly-fact");
        var html = Regex.Replace(email.Html, "<a href=\"" + Regex.Escape(MessageKit.UnsubscribeUrl()) + "\"[^>]*>.*?</a>", "", RegexOptions.Singleline);

        var problems = EmailLint.Check(email with { Html = html }, Expected());

        var problem = Assert.Single(problems);
        Assert.Equal(EmailLint.MissingUnsubscribe, problem.Code);
        Assert.Contains("unsubscribe link is missing from the HTML part", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_email_without_its_unsubscribe_link_in_the_text_is_refused_for_that_reason_alone()
    {
        var email = await MessageKit.RenderAsync("weekly-fact");

        var problem = Assert.Single(EmailLint.Check(email with { Text = email.Text.Replace(MessageKit.UnsubscribeUrl(), "", StringComparison.Ordinal) }, Expected()));

        Assert.Equal(EmailLint.MissingUnsubscribe, problem.Code);
        Assert.Contains("plain-text part", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_email_without_the_postal_address_is_refused_for_that_reason_alone()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var html = Regex.Replace(email.Html, "<p class=\"address\"[^>]*>.*?</p>", "", RegexOptions.Singleline);

        var problem = Assert.Single(EmailLint.Check(email with { Html = html }, Expected()));

        Assert.Equal(EmailLint.MissingPostalAddress, problem.Code);
        Assert.Contains("Steady Ground, 100 Example Street, Springfield, USA", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_email_without_the_disclaimer_is_refused_for_that_reason_alone()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var html = Regex.Replace(email.Html, "<p class=\"disclaimer\"[^>]*>.*?</p>", "", RegexOptions.Singleline);

        var problem = Assert.Single(EmailLint.Check(email with { Html = html }, Expected()));

        Assert.Equal(EmailLint.MissingDisclaimer, problem.Code);
    }

    [Theory]
    [InlineData("/posts/rest", EmailLint.LinkNotAbsolute)]
    [InlineData("posts/rest", EmailLint.LinkNotAbsolute)]
    [InlineData("javascript:alert(1)", EmailLint.LinkNotAbsolute)]
    [InlineData("", EmailLint.LinkNotAbsolute)]
    [InlineData("http://elsewhere.example.net/rest", EmailLint.LinkNotHttps)]
    public async Task A_link_that_is_not_absolute_https_is_refused_for_that_reason_alone(string href, string code)
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var html = email.Html.Replace("</body>", $"<p><a href=\"{href}\">read more</a></p></body>", StringComparison.Ordinal);

        var problem = Assert.Single(EmailLint.Check(email with { Html = html }, Expected()));

        Assert.Equal(code, problem.Code);
        Assert.Contains($"`{href}`", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Links_to_the_newsletters_own_site_follow_its_configured_scheme_and_mailto_links_are_fine()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var html = email.Html.Replace("</body>",
            "<p><a href=\"http://localhost:5080/archive\">archive</a> <a href=\"mailto:hello@example.org\">write to us</a></p></body>", StringComparison.Ordinal);
        var local = MessageKit.Newsletter(o => o.PublicBaseUrl = "http://localhost:5080");

        Assert.Empty(Codes(email with { Html = html }, Expected(local)));
        Assert.Equal([EmailLint.LinkNotHttps], Codes(email with { Html = html }, Expected()));
    }

    [Theory]
    [InlineData("<img src=\"https://news.example.org/a.jpg\">", EmailLint.ImageWithoutAlt)]
    [InlineData("<img src=\"https://news.example.org/a.jpg\" alt=\"  \">", EmailLint.ImageWithoutAlt)]
    [InlineData("<img src=\"images/a.jpg\" alt=\"A bench\">", EmailLint.ImageNotAbsolute)]
    public async Task An_image_without_alt_text_or_a_full_address_is_refused_for_that_reason_alone(string image, string code)
    {
        var email = await MessageKit.RenderAsync("monthly-spotlight");
        var html = email.Html.Replace("</body>", image + "</body>", StringComparison.Ordinal);

        Assert.Equal([code], Codes(email with { Html = html }));
    }

    [Fact]
    public async Task Several_problems_give_several_refusals_each_with_its_own_reason()
    {
        var email = await MessageKit.RenderAsync("weekly-fact");
        var html = Regex.Replace(email.Html, "<p class=\"(address|disclaimer)\"[^>]*>.*?</p>", "", RegexOptions.Singleline)
            .Replace("</body>", "<a href=\"/x\">x</a><img src=\"https://news.example.org/a.jpg\"></body>", StringComparison.Ordinal);

        Assert.Equal(
            [EmailLint.MissingPostalAddress, EmailLint.MissingDisclaimer, EmailLint.LinkNotAbsolute, EmailLint.ImageWithoutAlt],
            Codes(email with { Html = html }));
    }

    // ---- at the queue ----

    /// <summary>The queue as the host builds it, with the newsletter options replaced (bypassing their
    /// start-up validation, as a future relaxation of it would).</summary>
    private static async Task<QueueResult> QueueWithAsync(TestApp app, string path, Action<NewsletterOptions> change)
    {
        await using var host = await app.StartHostAsync();
        await using var scope = host.CreateScope();
        var sp = scope.ServiceProvider;
        var newsletter = MessageKit.Newsletter(change);
        var editions = sp.GetRequiredService<IOptions<EditionsOptions>>();
        var queue = new IssueQueue(sp.GetRequiredService<NewsletterDbContext>(), editions,
            new EditionEmailFactory(Options.Create(newsletter), editions), SampleIssues.Renderer, TimeProvider.System);
        return await queue.QueueFileAsync(path);
    }

    [Fact]
    public async Task Queuing_with_an_empty_postal_address_in_the_configuration_is_refused_naming_it()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("tip.md", TestData.TipIssue());

        var result = await QueueWithAsync(app, path, o => o.PostalAddress = " ");

        Assert.Null(result.Issue);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("postal address is missing", problem, StringComparison.Ordinal);
        Assert.Contains("Newsletter:PostalAddress", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queuing_with_an_empty_disclaimer_in_the_configuration_is_refused_naming_it()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("tip.md", TestData.TipIssue());

        var result = await QueueWithAsync(app, path, o => o.Disclaimer = "");

        Assert.Null(result.Issue);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("disclaimer is missing", problem, StringComparison.Ordinal);
        Assert.Contains("Newsletter:Disclaimer", problem, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "Read [the archive](/archive) first.", "link is not absolute: `/archive`" },
        { "![](https://news.example.org/walk.jpg)", "image has no alt text" },
        { "![A walk](walk.jpg)", "image link is not absolute: `walk.jpg`" },
        { "Read [the old site](http://old.example.net/rest).", "a link is not https: `http://old.example.net/rest`" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Queuing_an_issue_with_a_bad_link_or_image_is_refused_with_the_reason(string body, string reason)
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync();
        var path = app.WriteFile("tip.md", "---\nedition: weekly-tip\nsubject: A calm week\n---\n" + body + "\n");

        var result = await host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(path));

        Assert.Null(result.Issue);
        var problem = Assert.Single(result.Problems);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.StartsWith(path + ":", problem, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Empty(db.Issues);
    }

    [Fact]
    public async Task Queuing_an_issue_whose_html_would_be_clipped_by_gmail_is_refused_with_the_size_and_the_limit()
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync();
        var paragraph = string.Concat(Enumerable.Repeat("Some weeks are heavy, and that is allowed. We keep going one small step at a time. ", 10));
        var body = string.Join("\n\n", Enumerable.Repeat(paragraph, 150));
        var path = app.WriteFile("long.md", "---\nedition: weekly-tip\nsubject: A very long week\n---\n" + body + "\n");

        var result = await host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(path));

        Assert.Null(result.Issue);
        var problem = Assert.Single(result.Problems);
        Assert.Matches(@"the email would be \d+\.\d KB of HTML \([\d,.]+ bytes\); Gmail clips anything over 102 KB \(104[,.]448 bytes\)", problem);
    }

    [Fact]
    public async Task Each_sample_issue_is_queued_without_complaint()
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync();

        foreach (var edition in TestData.Editions)
        {
            var result = await host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(TestData.SampleIssuePath(edition)));
            Assert.True(result.Issue is not null, string.Join("\n", result.Problems));
        }
    }
}
