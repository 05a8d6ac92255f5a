using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Cli;

/// <summary>Files the service reads are bounded: an issue file too large, front matter with YAML anchors or deep
/// nesting, a CSV too large, each refused with one line naming the file and the limit, and nothing changed.</summary>
public sealed class InputBoundsTests
{
    private static async Task AssertRefusedAsync(TestApp app, CliResult result, string expectedLine)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.True(result.Error.Split('\n').Any(l => l.StartsWith(expectedLine, StringComparison.Ordinal)),
            $"expected a line starting \"{expectedLine}\"\n{result}");
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Issues.CountAsync());
        Assert.Equal(0, await db.Subscribers.CountAsync());
    }

    [Fact]
    public async Task An_issue_file_over_256_KB_is_refused_naming_the_file_and_the_limit_for_queue_and_preview()
    {
        await using var app = TestApp.Create();
        var paragraph = "Do one kind thing for yourself today, however small. " + new string('x', 60) + "\n\n";
        var path = app.WriteFile("huge.md", TestData.TipIssue() + string.Concat(Enumerable.Repeat(paragraph, 2300)));
        Assert.InRange(new FileInfo(path).Length, 256 * 1024 + 1, 300 * 1024);

        var queue = await app.RunCliAsync("issues", "queue", path);
        var preview = await app.RunCliAsync("issues", "preview", path, "--out", Path.Combine(app.Directory, "preview.html"));

        await AssertRefusedAsync(app, queue, $"{path}: the file is 259 KB; an issue file is at most 256 KB");
        Assert.Contains("Nothing was queued", queue.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, preview.ExitCode);
        Assert.Contains($"{path}: the file is 259 KB; an issue file is at most 256 KB", preview.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(app.Directory, "preview.html")));
    }

    public static TheoryData<string, string, int, string> BadFrontMatter => new()
    {
        {
            // Each alias repeats the one before nine times: a billion "lol"s if it were ever expanded.
            "an alias bomb",
            "---\nedition: weekly-tip\nsubject: Laughs\n" +
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
            string.Concat(Enumerable.Range(1, 8).Select(i =>
                $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(',', Enumerable.Repeat($"*{(char)('a' + i - 1)}", 9))}]\n")) +
            "headline: *i\n---\nBody text.\n",
            4, "YAML anchor or alias"
        },
        {
            "one anchor and alias",
            "---\nedition: weekly-tip\nsubject: &s Hello\nheadline: *s\n---\nBody text.\n",
            3, "YAML anchor or alias"
        },
        {
            "ten thousand nested lists",
            "---\nedition: weekly-tip\nsubject: Hello\nheadline: " + new string('[', 10_000) + new string(']', 10_000) + "\n---\nBody text.\n",
            4, "nested more than 4 levels deep"
        },
    };

    [Theory]
    [MemberData(nameof(BadFrontMatter))]
    public async Task Front_matter_with_yaml_anchors_aliases_or_deep_nesting_is_refused_with_its_line(
        string problem, string content, int line, string words)
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("bomb.md", content);

        var result = await app.RunCliAsync("issues", "queue", path);

        await AssertRefusedAsync(app, result, $"{path}:{line}: the front matter");
        Assert.True(result.Error.Contains(words, StringComparison.Ordinal), $"{problem}: expected \"{words}\"\n{result}");
    }

    [Fact]
    public async Task A_CSV_import_over_50_MB_is_refused_before_it_is_read_and_nothing_is_imported()
    {
        await using var app = TestApp.Create();
        var path = app.WriteFile("list.csv", "email,name,editions,consented_at,source\nada@example.org,Ada,weekly-tip,2025-03-14,\n");
        await using (var file = new FileStream(path, FileMode.Open))
        {
            // Sparse: the size without writing 51 MB. A file read before it is refused fails the checks below.
            file.SetLength(51L * 1024 * 1024);
        }

        var result = await app.RunCliAsync("subscribers", "import", path);

        await AssertRefusedAsync(app, result, "list.csv: the file is 51.0 MB; an import takes at most 50 MB.");
        Assert.Contains("Nothing was imported.", result.Error, StringComparison.Ordinal);
    }
}
