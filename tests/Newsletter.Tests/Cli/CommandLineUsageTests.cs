using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Cli;

namespace Newsletter.Tests.Cli;

/// <summary>What the command line does with words it does not know, help, and bad values: only
/// `newsletter` or `newsletter run` starts the service; everything else answers in a line or two.</summary>
public sealed class CommandLineUsageTests
{
    /// <summary>Runs the command line as the executable does, with a service that only records it was started.</summary>
    private static async Task<(CliResult Result, bool ServiceStarted)> RunAsync(TestApp app, params string[] args)
    {
        var started = false;
        var result = await app.RunCliAsync(args, service: (_, _) =>
        {
            started = true;
            return Task.FromResult(0);
        });
        return (result, started);
    }

    [Theory]
    [InlineData(new[] { "isues", "list" }, "unknown command 'isues' — did you mean 'issues'?")]
    [InlineData(new[] { "subscriber", "list" }, "unknown command 'subscriber' — did you mean 'subscribers'?")]
    [InlineData(new[] { "issues", "lst" }, "unknown command 'lst' for 'newsletter issues' — did you mean 'list'?")]
    [InlineData(new[] { "issues", "list", "--al" }, "unknown option '--al' for 'newsletter issues list' — did you mean '--all'?")]
    public async Task A_typo_is_a_usage_error_with_the_nearest_command_suggested_and_starts_nothing(string[] args, string expected)
    {
        await using var app = TestApp.Create();

        var (result, started) = await RunAsync(app, args);

        Assert.Equal(2, result.ExitCode);
        Assert.False(started, "a typo started the service");
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected, lines[0].TrimEnd());
        Assert.StartsWith("Run 'newsletter", lines[1], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.False(File.Exists(app.DatabasePath), "a usage error touched the database");
    }

    [Fact]
    public async Task A_word_nothing_like_a_command_gets_no_suggestion()
    {
        await using var app = TestApp.Create();

        var (result, started) = await RunAsync(app, "frobnicate");

        Assert.Equal(2, result.ExitCode);
        Assert.False(started);
        Assert.StartsWith("unknown command 'frobnicate'", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("run", "--help")]
    [InlineData("run", "-h")]
    [InlineData("issues", "--help")]
    [InlineData("issues", "show", "--help")]
    [InlineData("subscribers", "list", "-h")]
    [InlineData("isues", "--help")]
    public async Task Help_anywhere_prints_usage_and_exits_0_without_starting_anything(params string[] args)
    {
        await using var app = TestApp.Create();

        var (result, started) = await RunAsync(app, args);

        Assert.Equal(0, result.ExitCode);
        Assert.False(started, "help started the service");
        Assert.Contains("Usage:", result.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(app.DatabasePath), "help created a database");
    }

    [Fact]
    public async Task Run_starts_the_service_with_the_settings_that_follow_it()
    {
        await using var app = TestApp.Create();
        string[]? given = null;
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await NewsletterCli.RunAsync(["run", "--Urls=http://localhost:5081"], app.ConfigureCli, output, error,
            service: (args, _) =>
            {
                given = args;
                return Task.FromResult(0);
            });

        Assert.Equal(0, exit);
        Assert.Equal(["--Urls=http://localhost:5081"], given!);
    }

    [Fact]
    public async Task Run_followed_by_a_word_that_is_not_a_setting_is_a_usage_error()
    {
        await using var app = TestApp.Create();

        var (result, started) = await RunAsync(app, "run", "now");

        Assert.Equal(2, result.ExitCode);
        Assert.False(started);
        Assert.Contains("'now'", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "--Urls=http://localhost:5081" }, true)]
    [InlineData(new[] { "isues" }, false)]
    [InlineData(new[] { "--verbose" }, false)]
    public async Task Only_no_words_run_or_settings_alone_reach_the_service(string[] args, bool starts)
    {
        var started = false;
        var exit = await NewsletterCli.MainAsync(args, (_, _) =>
        {
            started = true;
            return Task.FromResult(0);
        });

        Assert.Equal(starts, started);
        Assert.Equal(starts ? 0 : 2, exit);
    }

    [Theory]
    [InlineData(new[] { "issues", "show", "abc" }, "'abc' is not an issue id (a whole number, see 'newsletter issues list')")]
    [InlineData(new[] { "publications", "show", "x1" }, "'x1' is not a publication id (a whole number, see 'newsletter publications list')")]
    [InlineData(new[] { "publications", "list", "--limit", "many" }, "--limit: 'many' is not a whole number above 0")]
    [InlineData(new[] { "issues", "queue" }, "'newsletter issues queue' needs FILE")]
    [InlineData(new[] { "issues", "preview", "1" }, "'newsletter issues preview' needs --out")]
    [InlineData(new[] { "issues" }, "'newsletter issues' needs a command: queue, list")]
    public async Task A_missing_or_unparsable_value_is_one_line_in_the_editors_words_and_exit_2(string[] args, string expected)
    {
        await using var app = TestApp.Create();

        var (result, _) = await RunAsync(app, args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(expected, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("isues", "issues", 1)]
    [InlineData("sbuscribers", "subscribers", 1)]
    [InlineData("list", "list", 0)]
    [InlineData("kitten", "sitting", 3)]
    public void Edit_distance_counts_insertions_deletions_changes_and_swaps(string a, string b, int distance) =>
        Assert.Equal(distance, UsageProblem.Distance(a, b));
}
