using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Cli;

/// <summary>A command run in the wrong folder must not answer from a fresh, empty database as if the
/// list were lost: commands that read need the database to exist; commands that add may create it, and say so.</summary>
public sealed class DatabaseCreationTests
{
    public static TheoryData<string[]> CommandsThatNeedTheDatabase => new()
    {
        { new[] { "editions" } },
        { new[] { "issues", "list" } },
        { new[] { "issues", "show", "1" } },
        { new[] { "issues", "cancel", "1" } },
        { new[] { "issues", "send-now", "1" } },
        { new[] { "publications", "list" } },
        { new[] { "publications", "show", "1" } },
        { new[] { "publications", "pause", "1" } },
        { new[] { "subscribers", "list" } },
        { new[] { "subscribers", "export" } },
        { new[] { "subscribers", "export-data", "sam@example.org" } },
        { new[] { "subscribers", "unsuppress", "sam@example.org" } },
        { new[] { "subscribers", "purge-unconfirmed" } },
    };

    [Theory]
    [MemberData(nameof(CommandsThatNeedTheDatabase))]
    public async Task A_command_that_reads_refuses_a_missing_database_naming_where_it_looked_and_creates_nothing(string[] args)
    {
        await using var app = TestApp.Create();
        var elsewhere = Path.Combine(app.Directory, "another-folder", "data");
        var path = Path.Combine(elsewhere, "newsletter.db");
        app.Set("ConnectionStrings:Newsletter", $"Data Source={path}");

        var result = await app.RunCliAsync(args);

        Assert.True(result.ExitCode == 2, $"expected exit 2\n{result}");
        Assert.StartsWith($"There is no database at {path}.", result.Error, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Newsletter", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
        Assert.False(Directory.Exists(Path.Combine(app.Directory, "another-folder")), "a command that reads created the database's folder");
    }

    [Fact]
    public async Task Previewing_or_dry_running_an_import_does_not_create_a_database_either()
    {
        await using var app = TestApp.Create();
        var csv = app.WriteFile("list.csv", "email,name,editions,consented_at,source\nada@example.org,Ada,weekly-tip,,\n");

        var preview = await app.RunCliAsync("issues", "preview", TestData.SampleIssuePath("weekly-tip"), "--out", Path.Combine(app.Directory, "p.html"));
        var dryRun = await app.RunCliAsync("subscribers", "import", csv, "--dry-run");

        Assert.Equal((2, 2), (preview.ExitCode, dryRun.ExitCode));
        Assert.False(File.Exists(app.DatabasePath));
    }

    [Theory]
    [InlineData("subscribers", "add", "sam@example.org", "--confirmed")]
    [InlineData("issues", "queue", "SAMPLE")]
    [InlineData("subscribers", "suppress", "sam@example.org")]
    public async Task A_command_that_adds_creates_the_database_and_says_where_once(params string[] args)
    {
        await using var app = TestApp.Create();
        var path = Path.Combine(app.Directory, "new-folder", "newsletter.db");
        app.Set("ConnectionStrings:Newsletter", $"Data Source={path}");
        args = args.Select(a => a == "SAMPLE" ? TestData.SampleIssuePath("weekly-tip") : a).ToArray();

        var first = await app.RunCliOkAsync(args);
        var list = await app.RunCliOkAsync("subscribers", "list");

        Assert.True(File.Exists(path));
        Assert.Contains($"Created a new database at {path}\n", first.Error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("Created a new database", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_that_cannot_be_opened_is_one_line_naming_the_connection_string_and_exit_2()
    {
        await using var app = TestApp.Create();
        var folder = Path.Combine(app.Directory, "a-folder.db");
        Directory.CreateDirectory(folder);
        app.Set("ConnectionStrings:Newsletter", $"Data Source={folder}");

        var result = await app.RunCliAsync("subscribers", "add", "sam@example.org");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"configuration: ConnectionStrings:Newsletter: cannot open the SQLite database {folder}", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_unreadable_DKIM_key_stops_a_command_with_one_line_naming_the_setting()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var missing = Path.Combine(app.Directory, "nowhere", "dkim.pem");
        app.Set("Messages:Dkim:Domain", "example.org").Set("Messages:Dkim:Selector", "news").Set("Messages:Dkim:PrivateKeyPath", missing);

        var result = await app.RunCliAsync("issues", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("configuration: Messages:Dkim:PrivateKeyPath: cannot read the DKIM private key file", result.Error, StringComparison.Ordinal);
        Assert.Contains(missing, result.Error, StringComparison.Ordinal);
        Assert.Contains("Messages__Dkim__PrivateKeyPath", result.Error, StringComparison.Ordinal);
    }
}
