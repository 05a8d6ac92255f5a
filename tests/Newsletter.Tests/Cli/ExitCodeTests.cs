using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Cli;

/// <summary>The README's exit codes, per command family: 0 done, 1 the input was refused (the message
/// says why), 2 usage or configuration error.</summary>
public sealed class ExitCodeTests
{
    public static TheoryData<string, string[], int> Rows => new()
    {
        { "editions", ["editions"], 0 },
        { "editions", ["editions", "weekly-tip"], 2 },
        { "editions", ["editions", "--verbose"], 2 },

        { "issues", ["issues", "list"], 0 },
        { "issues", ["issues", "queue", "SAMPLE"], 0 },
        { "issues", ["issues", "queue", "MISSING"], 1 },
        { "issues", ["issues", "queue", "BAD"], 1 },
        { "issues", ["issues", "queue"], 2 },
        { "issues", ["issues", "show", "9999"], 1 },
        { "issues", ["issues", "show", "abc"], 2 },
        { "issues", ["issues", "cancel", "9999"], 1 },
        { "issues", ["issues", "frobnicate"], 2 },
        { "issues", ["issues", "list", "--edition", "nope"], 2 },
        { "issues", ["issues", "preview", "9999", "--out", "OUT"], 1 },
        { "issues", ["issues", "preview", "SAMPLE", "--out", "OUT", "--to", "not an address"], 2 },

        { "publications", ["publications", "list"], 0 },
        { "publications", ["publications", "show", "9999"], 1 },
        { "publications", ["publications", "show", "x"], 2 },
        { "publications", ["publications", "pause", "9999"], 1 },
        { "publications", ["publications", "list", "--limit", "0"], 2 },
        { "publications", ["publications", "list", "--edition", "nope"], 2 },
        { "publications", ["publications", "send"], 2 },

        { "subscribers", ["subscribers", "list"], 0 },
        { "subscribers", ["subscribers", "add", "sam@example.org"], 0 },
        { "subscribers", ["subscribers", "add", "not-an-address"], 1 },
        { "subscribers", ["subscribers", "add", "sam@example.org", "--editions", "nope"], 1 },
        { "subscribers", ["subscribers", "list", "--edition", "nope"], 2 },
        { "subscribers", ["subscribers", "list", "--state", "gone"], 2 },
        { "subscribers", ["subscribers", "export-data", "nobody@example.org"], 1 },
        { "subscribers", ["subscribers", "unsuppress", "nobody@example.org"], 1 },
        { "subscribers", ["subscribers", "suppress", "sam@example.org", "--reason", "boredom"], 2 },
        { "subscribers", ["subscribers", "import", "MISSING"], 1 },
        { "subscribers", ["subscribers", "frob"], 2 },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Each_command_exits_as_the_README_says(string family, string[] args, int expected)
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var bad = app.WriteFile("bad.md", "---\nedition: weekly-nope\nsubject: Hello\n---\nBody.\n");
        args = args.Select(a => a switch
        {
            "SAMPLE" => TestData.SampleIssuePath("weekly-tip"),
            "MISSING" => Path.Combine(app.Directory, "missing.file"),
            "BAD" => bad,
            "OUT" => Path.Combine(app.Directory, "out.html"),
            _ => a,
        }).ToArray();

        var result = await app.RunCliAsync(args);

        Assert.True(result.ExitCode == expected, $"{family}: newsletter {string.Join(' ', args)}: expected exit {expected}\n{result}");
        if (expected != 0)
        {
            Assert.NotEqual("", result.Error.Trim());
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        }
        if (expected == 2)
        {
            Assert.Equal("", result.Out);
        }
    }
}
