using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Cli;

/// <summary>`newsletter issues …`: a bad file is refused with its path and line and queues nothing;
/// good files queue, list, show, preview and cancel.</summary>
public sealed class IssueQueueCliTests
{
    /// <summary>Each bad issue file, the line the problem is on (0: the whole file) and words the message must contain.</summary>
    public static TheoryData<string, string, int, string> BadFiles => new()
    {
        {
            "unknown edition",
            "---\nedition: weekly-nope\nsubject: Hello\n---\nBody text.\n",
            2, "unknown edition 'weekly-nope'"
        },
        {
            "a key that belongs to another edition",
            "---\nedition: weekly-fact\nsubject: Hello\ntheme: Sleep\nexamples:\n  - one\n---\nBody text.\n",
            5, "unknown key 'examples'"
        },
        {
            "no subject",
            "---\nedition: weekly-tip\npreheader: Hi\n---\nBody text.\n",
            0, "'subject:'"
        },
        {
            "an empty subject",
            "---\nedition: weekly-tip\nsubject: \"\"\n---\nBody text.\n",
            3, "'subject' is empty"
        },
        {
            "malformed YAML",
            "---\nedition: weekly-tip\nsubject: \"unclosed\npreheader: Hi\n---\nBody text.\n",
            3, "not valid YAML"
        },
        {
            "no front matter",
            "# Just a heading\n\nBody text.\n",
            1, "front-matter block"
        },
        {
            "unclosed front matter",
            "---\nedition: weekly-tip\nsubject: Hello\n\nBody text.\n",
            1, "not closed"
        },
        {
            "raw HTML in the body",
            "---\nedition: weekly-tip\nsubject: Hello\n---\nFirst paragraph.\n\n<div>Hello</div>\n",
            7, "raw HTML"
        },
        {
            "inline raw HTML in the body",
            "---\nedition: weekly-tip\nsubject: Hello\n---\n## Heading\n\nSome <b>bold</b> words.\n",
            7, "raw HTML"
        },
        {
            "an image without alt text",
            "---\nedition: weekly-tip\nsubject: Hello\n---\nIntro.\n\n![](https://images.example.org/a.png)\n",
            7, "alt text"
        },
        {
            "a relative link",
            "---\nedition: weekly-tip\nsubject: Hello\n---\nIntro.\n\nRead [the post](/posts/rest) today.\n",
            7, "not absolute"
        },
        {
            "a subject that would forge a header",
            "---\nedition: weekly-tip\nsubject: \"Hi\\r\\nBcc: x@example.org\"\n---\nBody text.\n",
            3, "line break or control character"
        },
        {
            "a send_on that is not a date",
            "---\nedition: weekly-tip\nsubject: Hello\nsend_on: next tuesday\n---\nBody text.\n",
            4, "send_on"
        },
        {
            "a spotlight image without image_alt",
            "---\nedition: monthly-spotlight\nsubject: Hello\nimage: https://images.example.org/a.png\n---\nBody text.\n",
            4, "alt text"
        },
        {
            "no body",
            "---\nedition: weekly-tip\nsubject: Hello\n---\n\n",
            5, "no body"
        },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_issue_file_is_refused_with_its_path_and_line_and_nothing_is_queued(
        string problem, string content, int line, string words)
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("bad-issue.md", content);

        var result = await app.RunCliAsync("issues", "queue", path);

        Assert.True(result.ExitCode != 0, $"{problem}: expected a refusal\n{result}");
        var expected = line > 0 ? $"{path}:{line}: " : $"{path}: ";
        Assert.True(
            result.Error.Split('\n').Any(l => l.StartsWith(expected, StringComparison.Ordinal) && l.Contains(words, StringComparison.Ordinal)),
            $"{problem}: expected a line starting '{expected}' mentioning \"{words}\"\n{result}");
        Assert.Contains("Nothing was queued", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Issues.CountAsync());
    }

    [Fact]
    public async Task Every_problem_in_a_file_is_reported_at_once_in_line_order()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("bad-issue.md",
            "---\nedition: weekly-fact\nsubject: Hello\nexamples:\n  - one\n---\nSee [this](/x).\n\n<p>raw</p>\n");

        var result = await app.RunCliAsync("issues", "queue", path);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(path, StringComparison.Ordinal)).ToList();
        Assert.Equal([$"{path}:4:", $"{path}:7:", $"{path}:9:"], lines.Select(l => l[..(l.IndexOf(": ", StringComparison.Ordinal) + 1)]));
    }

    [Fact]
    public async Task A_file_that_does_not_exist_is_refused_naming_the_path()
    {
        await using var app = TestApp.Create();
        var path = Path.Combine(app.Directory, "missing.md");

        var result = await app.RunCliAsync("issues", "queue", path);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(path, result.Error, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Issues.CountAsync());
    }

    [Theory]
    [InlineData("weekly-fact")]
    [InlineData("weekly-tip")]
    [InlineData("monthly-spotlight")]
    public async Task The_sample_issue_of_each_edition_queues_and_prints_its_id(string edition)
    {
        await using var app = TestApp.Create();

        var result = await app.RunCliOkAsync("issues", "queue", TestData.SampleIssuePath(edition));

        var id = int.Parse(result.Out.Trim(), CultureInfo.InvariantCulture);
        await using var db = app.OpenDb();
        var issue = Assert.Single(await db.Issues.ToListAsync());
        Assert.Equal((id, edition, IssueStatus.Queued), (issue.Id, issue.Edition, issue.Status));
        Assert.Equal(Path.GetFullPath(TestData.SampleIssuePath(edition)), issue.SourceFile);
        Assert.DoesNotContain("---", issue.BodyMarkdown.Split('\n')[0], StringComparison.Ordinal);
        Assert.Contains($"Queued issue {id} for {edition}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edition_extras_from_the_front_matter_are_kept_with_the_issue()
    {
        await using var app = TestApp.Create();

        var fact = await QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));
        var spotlight = await QueueAsync(app, TestData.SampleIssuePath("monthly-spotlight"));

        var factShown = await app.RunCliOkAsync("issues", "show", fact.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("Sleep Awareness", factShown.Out, StringComparison.Ordinal);
        Assert.Contains("https://www.ncbi.nlm.nih.gov/books/", factShown.Out, StringComparison.Ordinal);
        var spotlightShown = await app.RunCliOkAsync("issues", "show", spotlight.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("Dana R.", spotlightShown.Out, StringComparison.Ordinal);
        Assert.Contains("A woman kneeling in a small vegetable garden", spotlightShown.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_shows_queued_issues_and_can_be_narrowed_to_one_edition()
    {
        await using var app = TestApp.Create();
        var fact = await QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));
        var tip = await QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));

        var all = await app.RunCliOkAsync("issues", "list");
        var tips = await app.RunCliOkAsync("issues", "list", "--edition", "weekly-tip");
        var unknown = await app.RunCliAsync("issues", "list", "--edition", "weekly-nope");

        Assert.Contains(Row(fact, "weekly-fact"), all.Out, StringComparison.Ordinal);
        Assert.Contains(Row(tip, "weekly-tip"), all.Out, StringComparison.Ordinal);
        Assert.Contains("sleep and mood talk to each other", all.Out, StringComparison.Ordinal);
        Assert.Contains(Row(tip, "weekly-tip"), tips.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("weekly-fact", tips.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("weekly-nope", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_prints_the_issues_details_and_body()
    {
        await using var app = TestApp.Create();
        var id = await QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));

        var shown = await app.RunCliOkAsync("issues", "show", id.ToString(CultureInfo.InvariantCulture));
        var missing = await app.RunCliAsync("issues", "show", "9999");

        Assert.Contains($"Issue {id}", shown.Out, StringComparison.Ordinal);
        Assert.Contains("edition:   weekly-tip", shown.Out, StringComparison.Ordinal);
        Assert.Contains("subject:   Tip of the Week: pick one thing that counts as enough", shown.Out, StringComparison.Ordinal);
        Assert.Contains("status:    queued", shown.Out, StringComparison.Ordinal);
        Assert.Contains("## Choose one \"enough\" for today", shown.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("9999", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_writes_the_email_as_HTML_with_its_subject_and_language()
    {
        await using var app = TestApp.Create();
        var id = await QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        var output = Path.Combine(app.Directory, "preview", "tip.html");

        await app.RunCliOkAsync("issues", "preview", id.ToString(CultureInfo.InvariantCulture), "--out", output);

        var html = await File.ReadAllTextAsync(output);
        Assert.Contains("<html lang=", html, StringComparison.Ordinal);
        Assert.Contains("pick one thing that counts as enough", html, StringComparison.Ordinal);
        Assert.Contains($"{TestApp.PublicBaseUrl}/unsubscribe/", html, StringComparison.Ordinal);
        var text = await File.ReadAllTextAsync(Path.ChangeExtension(output, ".txt"));
        Assert.Contains("enough", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<", text.Replace("<https://", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_issue_leaves_the_queue_and_cannot_be_cancelled_again()
    {
        await using var app = TestApp.Create();
        var id = await QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        var idText = id.ToString(CultureInfo.InvariantCulture);

        var cancelled = await app.RunCliOkAsync("issues", "cancel", idText);
        var list = await app.RunCliOkAsync("issues", "list");
        var again = await app.RunCliAsync("issues", "cancel", idText);
        var unknown = await app.RunCliAsync("issues", "cancel", "9999");
        var listAll = await app.RunCliOkAsync("issues", "list", "--all");

        Assert.Contains($"Issue {id} is cancelled", cancelled.Out, StringComparison.Ordinal);
        Assert.Contains("No issues.", list.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("cancelled, not queued", again.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains(Row(id, "weekly-tip"), listAll.Out, StringComparison.Ordinal);
        Assert.Contains("cancelled", listAll.Out, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        var issue = await db.Issues.SingleAsync();
        Assert.Equal(IssueStatus.Cancelled, issue.Status);
        Assert.NotNull(issue.CancelledAt);
    }

    [Fact]
    public async Task A_cancelled_issue_cannot_be_sent()
    {
        await using var app = TestApp.Create();
        var id = await QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        await app.RunCliOkAsync("issues", "cancel", id.ToString(CultureInfo.InvariantCulture));

        var result = await app.RunCliAsync("issues", "send-now", id.ToString(CultureInfo.InvariantCulture));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("not queued", result.Error, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Publications.CountAsync());
    }

    [Fact]
    public async Task Sending_an_issue_that_does_not_exist_is_refused()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();

        var result = await app.RunCliAsync("issues", "send-now", "4242");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("there is no issue 4242", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2999-12-09", "is not a day Tip of the Week goes out")]   // a Wednesday; the tip goes out on Thursdays
    [InlineData("2020-11-19", "has already passed")]                      // a Thursday long gone
    public async Task A_pin_to_a_date_without_a_coming_slot_is_refused_with_its_line(string date, string expected)
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("pinned.md", TestData.TipIssue("Pinned", $"send_on: {date}"));

        var result = await app.RunCliAsync("issues", "queue", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{path}:4: send_on {date}", result.Error, StringComparison.Ordinal);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Empty(db.Issues);
    }

    [Fact]
    public async Task A_pinned_issue_says_which_date_it_is_pinned_to()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("pinned.md", TestData.TipIssue("Pinned", "send_on: 2026-12-10"));

        var result = await app.RunCliOkAsync("issues", "queue", path);
        var list = await app.RunCliOkAsync("issues", "list");

        Assert.Contains("(pinned to 2026-12-10)", result.Error, StringComparison.Ordinal);
        Assert.Contains("2026-12-10", list.Out, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(new DateOnly(2026, 12, 10), (await db.Issues.SingleAsync()).SendOn);
    }

    internal static async Task<int> QueueAsync(TestApp app, string path)
    {
        var result = await app.RunCliOkAsync("issues", "queue", path);
        return int.Parse(result.Out.Trim(), CultureInfo.InvariantCulture);
    }

    private static string Row(int id, string edition) => $"{id,5}  {edition,-18} ";
}
