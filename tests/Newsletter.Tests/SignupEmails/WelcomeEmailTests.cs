using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.SignupEmails;

/// <summary>
/// A reader who confirms gets one welcome, through the real confirm link, the outbox and a real SMTP
/// server: their editions and when each arrives, the latest archived issue of each, their links, the
/// crisis line, and the footer every email carries (checked by the same lint as every edition).
/// </summary>
public sealed class WelcomeEmailTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Signs up and confirms through the pages; returns the confirm link's path and the welcome.</summary>
    private static async Task<(string ConfirmPath, MimeMessage Welcome)> ConfirmAndGetWelcomeAsync(
        SignupWorld world, string email, string? name, params string[] editions)
    {
        var link = await world.SignUpAndGetLinkAsync(email, name, editions);
        var before = world.Smtp.Messages.Count;
        var confirmed = await world.PostAsync(link);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        await world.Smtp.WaitForMessagesAsync(before + 1, Patience);
        return (link, world.Smtp.Messages[before].Message);
    }

    private static string Link(MimeMessage message, string prefix)
    {
        var match = Regex.Match(message.TextBody ?? "", Regex.Escape(TestApp.PublicBaseUrl + prefix) + @"[A-Za-z0-9_\-\.]+");
        Assert.True(match.Success, $"no {prefix} link in:\n{message.TextBody}");
        return match.Value;
    }

    [Fact]
    public async Task A_reader_who_confirms_gets_one_welcome_with_their_editions_their_links_and_the_crisis_line()
    {
        await using var world = await SignupWorld.StartAsync();

        var (confirmPath, welcome) = await ConfirmAndGetWelcomeAsync(world, "sam@example.org", "Sam", "weekly-tip", "monthly-spotlight");

        Assert.Equal("Welcome to Steady Ground: you're all set", welcome.Subject);
        Assert.Equal(["sam@example.org"], welcome.To.Mailboxes.Select(m => m.Address));
        var text = welcome.TextBody!;
        var flat = Flat(text);
        Assert.Contains("Hi Sam,", text, StringComparison.Ordinal);
        Assert.Contains("- Tip of the Week: every Thursday morning (9:00, New York time)", flat, StringComparison.Ordinal);
        Assert.Contains("- Monthly Spotlight: on the 1st of every month, in the morning (9:00, New York time)", flat, StringComparison.Ordinal);
        Assert.DoesNotContain("Fact of the Week", text, StringComparison.Ordinal);
        // In the body, where the welcome speaks of hard days, and in the footer.
        Assert.Equal(2, Regex.Matches(flat, Regex.Escape("If you are in crisis, call or text 988 (US) or your local emergency number.")).Count);
        // Nothing published yet: no archive links, and the paragraph that would introduce them is left out.
        Assert.DoesNotContain("/archive/", welcome.HtmlBody!, StringComparison.Ordinal);
        Assert.DoesNotContain("something to read now", text, StringComparison.Ordinal);

        // The links work: preferences (change editions, pause) and unsubscribe are this reader's own pages.
        var preferences = Link(welcome, "/preferences/");
        var unsubscribe = Link(welcome, "/unsubscribe/");
        Assert.Contains($"href=\"{preferences}\"", welcome.HtmlBody, StringComparison.Ordinal);
        var preferencesPage = await world.Client.GetAsync(new Uri(preferences).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, preferencesPage.StatusCode);
        Assert.Contains("sam@example.org", await preferencesPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await world.Client.GetAsync(new Uri(unsubscribe).AbsolutePath)).StatusCode);

        // The same lint as every edition's email: unsubscribe link, postal address, disclaimer, https links.
        var problems = EmailLint.Check(new RenderedEmail(welcome.Subject!, welcome.HtmlBody!, text), new EmailLintExpectations(
            unsubscribe, world.App.Settings["Newsletter:PostalAddress"]!, world.App.Settings["Newsletter:Disclaimer"]!, TestApp.PublicBaseUrl));
        Assert.Empty(problems);

        // A second click on the confirmation link sends nothing more.
        var before = world.Smtp.Messages.Count;
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(confirmPath)).StatusCode);
        await world.MailIdleAsync();
        Assert.Equal(before, world.Smtp.Messages.Count);
        var outbox = await world.OutboxAsync();
        Assert.Single(outbox, e => e.Kind == LifecycleEmailKind.Welcome);
    }

    [Fact]
    public async Task The_welcome_links_the_latest_archived_issue_of_each_chosen_edition_that_has_one()
    {
        await using var world = await SignupWorld.StartAsync();
        var published = SignupWorld.Start.UtcDateTime;
        await using (var db = world.App.OpenDb())
        {
            db.Issues.AddRange(
                Issue("weekly-tip", "An older tip", published.AddDays(-14), "2026-10-15-an-older-tip"),
                Issue("weekly-tip", "Pick one thing that counts as enough", published.AddDays(-7), "2026-10-22-pick-one-thing"),
                // Newer, but kept out of the archive by its front matter.
                Issue("weekly-tip", "A private tip", published.AddDays(-1), "2026-10-29-a-private-tip", inArchive: false),
                // Queued, not published.
                new Issue { Edition = "weekly-tip", Subject = "A coming tip", BodyMarkdown = "Soon.", Status = IssueStatus.Queued, QueuedAt = published },
                // Published before issues had archive addresses: nothing to link to.
                Issue("weekly-fact", "An old fact", published.AddDays(-3), archiveKey: null));
            await db.SaveChangesAsync();
        }

        var (_, welcome) = await ConfirmAndGetWelcomeAsync(world, "robin@example.org", null, "weekly-tip", "weekly-fact");

        var url = $"{TestApp.PublicBaseUrl}/archive/weekly-tip/2026-10-22-pick-one-thing";
        Assert.Contains($"href=\"{url}\"", welcome.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Pick one thing that counts as enough", welcome.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("something to read now", Flat(welcome.TextBody), StringComparison.Ordinal);
        Assert.Contains("Hi there,", welcome.TextBody, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(welcome.HtmlBody!, Regex.Escape($"{TestApp.PublicBaseUrl}/archive/")));
        Assert.DoesNotContain("A private tip", welcome.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("An old fact", welcome.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_confirmed_reader_who_adds_an_edition_later_is_not_welcomed_again()
    {
        await using var world = await SignupWorld.StartAsync();
        await ConfirmAndGetWelcomeAsync(world, "kai@example.org", "Kai", "weekly-tip");
        world.Time.Advance(TimeSpan.FromHours(2)); // past the one-sign-up-email-an-hour limit

        var link = await world.SignUpAndGetLinkAsync("kai@example.org", "Kai", "weekly-tip", "weekly-fact");
        var before = world.Smtp.Messages.Count;
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(link)).StatusCode);
        await world.MailIdleAsync();

        Assert.Equal(before, world.Smtp.Messages.Count);
        await using var db = world.App.OpenDb();
        var subscriber = await db.Subscribers.Include(s => s.Subscriptions).SingleAsync();
        Assert.All(subscriber.Subscriptions, s => Assert.Equal(SubscriptionStatus.Active, s.Status));
        Assert.Single(await world.OutboxAsync(), e => e.Kind == LifecycleEmailKind.Welcome);
    }

    [Fact]
    public async Task A_restyled_layout_in_the_templates_folder_changes_the_email_that_is_sent()
    {
        using var folder = new TemplateFolder();
        folder.Write(TemplateSet.LayoutFile, TemplateFolder.BuiltIn(TemplateSet.LayoutFile)
            .Replace("background-color: #f4f1ec;", "background-color: #fdf6e3;", StringComparison.Ordinal)
            .Replace("<p class=\"greeting\">", "<p class=\"restyled\">Our new look</p><p class=\"greeting\">", StringComparison.Ordinal));
        folder.Write(TemplateSet.WelcomeFile, """
            ---
            subject: "{{newsletter}} says hello"
            ---
            Here is what you chose:

            {{editions}}

            [Change your editions or take a break]({{preferences_url}}).
            """);
        await using var world = await SignupWorld.StartAsync(app => app.Set("Templates:Folder", folder.Path));

        var (_, welcome) = await ConfirmAndGetWelcomeAsync(world, "ana@example.org", "Ana", "weekly-tip");

        Assert.Equal("Steady Ground says hello", welcome.Subject);
        Assert.Contains("Our new look", welcome.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("#fdf6e3", welcome.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Tip of the Week: every Thursday morning", Flat(welcome.TextBody), StringComparison.Ordinal);
        Assert.Empty(EmailLint.Check(new RenderedEmail(welcome.Subject!, welcome.HtmlBody!, welcome.TextBody!), new EmailLintExpectations(
            Link(welcome, "/unsubscribe/"), world.App.Settings["Newsletter:PostalAddress"]!, world.App.Settings["Newsletter:Disclaimer"]!,
            TestApp.PublicBaseUrl)));
    }

    private static string Flat(string? text) => string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static Issue Issue(string edition, string subject, DateTime publishedAt, string? archiveKey, bool inArchive = true) => new()
    {
        Edition = edition,
        Subject = subject,
        BodyMarkdown = "Body.",
        Status = IssueStatus.Published,
        QueuedAt = publishedAt.AddDays(-1),
        PublishedAt = publishedAt,
        ArchiveKey = archiveKey,
        InArchive = inArchive,
    };
}

/// <summary>A temporary templates folder for one test, deleted afterwards.</summary>
internal sealed class TemplateFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("newsletter-templates-").FullName;

    public string Write(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>The built-in template of that name, to restyle.</summary>
    public static string BuiltIn(string name)
    {
        using var stream = typeof(TemplateSet).Assembly.GetManifestResourceStream("Newsletter.Templates.Views." + name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
