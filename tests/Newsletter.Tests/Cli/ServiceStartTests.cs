using System.Net;
using System.Net.Sockets;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Cli;

/// <summary>
/// The real executable (`dotnet newsletter.dll`, as a child process) started with something the
/// operator got wrong: it exits 2 with one line naming the setting and the fix, never a stack trace.
/// </summary>
public sealed class ServiceStartTests
{
    [Fact]
    public async Task A_port_in_use_is_one_line_naming_Urls_and_exit_2()
    {
        await using var app = TestApp.Create();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)busy.LocalEndpoint).Port}";

        var result = await StartServiceAsync(app, ("Urls", url));

        AssertOneProblem(result, $"configuration: Urls: {url} is already in use");
        Assert.Contains("Newsletter:PublicBaseUrl", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_that_cannot_be_opened_is_one_line_naming_the_connection_string()
    {
        await using var app = TestApp.Create();
        // A folder where the database file should be: SQLite cannot open it.
        var folder = Path.Combine(app.Directory, "not-a-file.db");
        Directory.CreateDirectory(folder);

        var result = await StartServiceAsync(app, ("ConnectionStrings__Newsletter", $"Data Source={folder}"));

        AssertOneProblem(result, $"configuration: ConnectionStrings:Newsletter: cannot open the SQLite database {folder}");
        Assert.Contains("ConnectionStrings__Newsletter", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_setting_is_one_line_naming_the_key_and_how_to_set_it()
    {
        await using var app = TestApp.Create();

        var result = await StartServiceAsync(app, ("Editions__weekly-tip__Schedule", "not a cron"));

        AssertOneProblem(result, "configuration: Editions:weekly-tip:Schedule");
        Assert.Contains("Editions__weekly-tip__Schedule", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_DKIM_key_is_one_line_naming_its_path_and_setting()
    {
        await using var app = TestApp.Create();
        var missing = Path.Combine(app.Directory, "keys", "dkim.pem");

        var result = await StartServiceAsync(app,
            ("Messages__Dkim__Domain", "example.org"), ("Messages__Dkim__Selector", "news"), ("Messages__Dkim__PrivateKeyPath", missing));

        AssertOneProblem(result, "configuration: Messages:Dkim:PrivateKeyPath: cannot read the DKIM private key file");
        Assert.Contains(missing, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_prints_its_answer_and_none_of_the_services_information_logs()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();

        var result = await NewsletterProcess.RunAsync(app, ["editions"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("weekly-tip", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("info:", result.Out + result.Error, StringComparison.Ordinal);
    }

    private static void AssertOneProblem(CliResult result, string start)
    {
        Assert.True(result.ExitCode == 2, $"expected exit 2\n{result}");
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith(start, StringComparison.Ordinal), $"expected one line starting '{start}'\n{result}");
        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Out + result.Error, StringComparison.Ordinal);
    }

    /// <summary>Runs `dotnet newsletter.dll` in the test's folder with the test's settings (as environment
    /// variables) plus <paramref name="settings"/>; the service is stopped if it ever gets going.</summary>
    internal static Task<CliResult> StartServiceAsync(TestApp app, params (string Key, string Value)[] settings) =>
        NewsletterProcess.RunAsync(app, [], settings);
}
