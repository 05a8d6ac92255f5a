using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Cli;

/// <summary>`issues list` says the slot each queued issue will really take; `issues show` reads like the
/// file; the same file queued twice is refused; a preview carries every link a real email does.</summary>
public sealed class IssuesListAndShowTests
{
    // Monday 4 January 2027, noon UTC. Tip of the Week goes out Thursdays 09:00 New York (14:00 UTC).
    private static readonly DateTimeOffset Monday = new(2027, 1, 4, 12, 0, 0, TimeSpan.Zero);

    private static Task<CliResult> RunAtAsync(TestApp app, DateTimeOffset now, params string[] args) => app.RunCliAsync(args, now);

    private static async Task<int> QueueTipAsync(TestApp app, string subject, params string[] frontMatter)
    {
        var path = app.WriteFile($"{Guid.NewGuid():N}.md", TestData.TipIssue(subject, frontMatter));
        var result = await RunAtAsync(app, Monday, "issues", "queue", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        return int.Parse(result.Out.Trim(), CultureInfo.InvariantCulture);
    }

    private static string LineOf(CliResult result, string subject) =>
        Assert.Single(result.Out.Split('\n'), l => l.TrimEnd().EndsWith(subject, StringComparison.Ordinal));

    [Fact]
    public async Task Each_queued_issue_shows_the_slot_it_will_take_pinned_ones_on_their_day_the_rest_in_queue_order()
    {
        await using var app = TestApp.Create();
        await QueueTipAsync(app, "First in the queue");
        await QueueTipAsync(app, "Pinned to the fourteenth", "send_on: 2027-01-14");
        await QueueTipAsync(app, "Second in the queue");
        await QueueTipAsync(app, "Third in the queue");

        var list = await RunAtAsync(app, Monday, "issues", "list");

        Assert.Equal(0, list.ExitCode);
        Assert.Contains("Thu 2027-01-07 09:00 America/New_York", LineOf(list, "First in the queue"), StringComparison.Ordinal);
        Assert.Contains("Thu 2027-01-14 09:00 America/New_York (pinned)", LineOf(list, "Pinned to the fourteenth"), StringComparison.Ordinal);
        Assert.Contains("Thu 2027-01-21 09:00", LineOf(list, "Second in the queue"), StringComparison.Ordinal);
        Assert.Contains("Thu 2027-01-28 09:00", LineOf(list, "Third in the queue"), StringComparison.Ordinal);
        Assert.DoesNotContain("next slot", list.Out, StringComparison.Ordinal);
        // In the order they go out.
        var order = new[] { "First in the queue", "Pinned to the fourteenth", "Second in the queue", "Third in the queue" }
            .Select(s => list.Out.IndexOf(s, StringComparison.Ordinal)).ToList();
        Assert.Equal(order.Order(), order);
    }

    [Fact]
    public async Task The_publisher_takes_at_each_slot_the_issue_the_list_forecast_for_it()
    {
        await using var app = TestApp.Create();
        string[] subjects = ["First in the queue", "Pinned to the fourteenth", "Second in the queue", "Third in the queue"];
        await QueueTipAsync(app, subjects[0]);
        await QueueTipAsync(app, subjects[1], "send_on: 2027-01-14");
        await QueueTipAsync(app, subjects[2]);
        await QueueTipAsync(app, subjects[3]);
        var list = await RunAtAsync(app, Monday, "issues", "list");
        using var host = app.BuildHost();

        // The forecast replays the publisher's rule; this holds the two together.
        foreach (var (subject, slot) in subjects.Zip([7, 14, 21, 28], (s, day) => (s, new DateTimeOffset(2027, 1, day, 14, 0, 0, TimeSpan.Zero))))
        {
            Assert.Contains($"Thu {slot:yyyy-MM-dd} 09:00 America/New_York", LineOf(list, subject), StringComparison.Ordinal);
            await using var scope = host.Services.CreateAsyncScope();
            var published = await scope.ServiceProvider.GetRequiredService<Publisher>()
                .PublishSlotAsync("weekly-tip", slot, PublicationKind.Scheduled);
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            Assert.Equal(subject, await db.Issues.Where(i => i.Id == published.Publication!.IssueId).Select(i => i.Subject).SingleAsync());
        }
    }

    [Fact]
    public async Task Sent_and_cancelled_issues_show_when_that_happened_not_a_slot_and_the_queue_moves_up()
    {
        await using var app = TestApp.Create();
        var sent = await QueueTipAsync(app, "Sent already");
        var cancelled = await QueueTipAsync(app, "Cancelled one");
        await QueueTipAsync(app, "Still waiting");
        Assert.Equal(0, (await RunAtAsync(app, Monday, "issues", "send-now", sent.ToString(CultureInfo.InvariantCulture))).ExitCode);
        Assert.Equal(0, (await RunAtAsync(app, Monday, "issues", "cancel", cancelled.ToString(CultureInfo.InvariantCulture))).ExitCode);

        var list = await RunAtAsync(app, Monday, "issues", "list", "--all");

        Assert.Contains("sent Mon 2027-01-04 07:00 America/New_York", LineOf(list, "Sent already"), StringComparison.Ordinal);
        Assert.Contains("cancelled Mon 2027-01-04 07:00", LineOf(list, "Cancelled one"), StringComparison.Ordinal);
        Assert.Contains("Thu 2027-01-07 09:00", LineOf(list, "Still waiting"), StringComparison.Ordinal);
        Assert.DoesNotContain("2027-01-07", LineOf(list, "Sent already"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_prints_the_front_matter_as_labelled_lines_not_JSON()
    {
        await using var app = TestApp.Create();
        var id = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("monthly-spotlight"));

        var shown = await app.RunCliOkAsync("issues", "show", id.ToString(CultureInfo.InvariantCulture));

        Assert.Contains("  featured_person: ", shown.Out, StringComparison.Ordinal);
        Assert.Contains("  image_alt:", shown.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("extras:", shown.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", shown.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("{\"", shown.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_lists_examples_and_sources_one_per_line()
    {
        await using var app = TestApp.Create();
        var id = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));

        var shown = await app.RunCliOkAsync("issues", "show", id.ToString(CultureInfo.InvariantCulture));

        var lines = shown.Out.Split('\n').Select(l => l.TrimEnd()).ToList();
        var sources = lines.IndexOf("  sources:");
        Assert.True(sources > 0, shown.Out);
        Assert.StartsWith("    - ", lines[sources + 1], StringComparison.Ordinal);
        Assert.Contains("https://www.ncbi.nlm.nih.gov/books/", shown.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_issue_queued_twice_is_refused_naming_the_first_unless_duplicates_are_allowed()
    {
        await using var app = TestApp.Create();
        var sample = TestData.SampleIssuePath("weekly-tip");
        var first = await IssueQueueCliTests.QueueAsync(app, sample);

        var again = await app.RunCliAsync("issues", "queue", sample);
        var allowed = await app.RunCliAsync("issues", "queue", sample, "--allow-duplicate");

        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"already queued as issue {first}", again.Error, StringComparison.Ordinal);
        Assert.Contains("--allow-duplicate", again.Error, StringComparison.Ordinal);
        Assert.Contains("Nothing was queued", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, allowed.ExitCode);
        await using var db = app.OpenDb();
        Assert.Equal(2, await db.Issues.CountAsync());
    }

    [Fact]
    public async Task A_changed_file_or_one_whose_twin_was_cancelled_queues_normally()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("tip.md", TestData.TipIssue("Same subject"));
        var first = await IssueQueueCliTests.QueueAsync(app, path);
        await app.RunCliOkAsync("issues", "cancel", first.ToString(CultureInfo.InvariantCulture));

        await app.RunCliOkAsync("issues", "queue", path);
        File.AppendAllText(path, "\nOne more line.\n");
        await app.RunCliOkAsync("issues", "queue", path);

        await using var db = app.OpenDb();
        Assert.Equal(3, await db.Issues.CountAsync());
    }

    [Fact]
    public async Task A_preview_carries_the_manage_your_editions_link_a_real_email_carries()
    {
        await using var app = TestApp.Create();
        var id = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        var output = Path.Combine(app.Directory, "preview", "tip.html");
        await app.RunCliOkAsync("subscribers", "add", "sam@example.org", "--name", "Sam", "--confirmed");

        await app.RunCliOkAsync("issues", "preview", id.ToString(CultureInfo.InvariantCulture), "--out", output);
        await app.RunCliOkAsync("issues", "send-now", id.ToString(CultureInfo.InvariantCulture));

        var html = await File.ReadAllTextAsync(output);
        var text = await File.ReadAllTextAsync(Path.ChangeExtension(output, ".txt"));
        Assert.Contains($"href=\"{TestApp.PublicBaseUrl}/preferences/preview\"", html, StringComparison.Ordinal);
        Assert.Contains("Manage your editions", html, StringComparison.Ordinal);
        Assert.Contains($"{TestApp.PublicBaseUrl}/preferences/preview", text, StringComparison.Ordinal);
        var sent = MimeKit.MimeMessage.Load(Assert.Single(Directory.GetFiles(app.PickupDirectory, "*.eml", SearchOption.AllDirectories)));
        Assert.Contains("Manage your editions", sent.HtmlBody, StringComparison.Ordinal);
    }
}
