using System.Globalization;
using System.Net;
using System.Text.Json;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Operations;

/// <summary>The real executable as a service: JSON logs by a setting, the container's port, and a data
/// folder it cannot write stopping it at start.</summary>
public sealed class ServiceProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task With_the_json_setting_each_log_line_is_an_object_and_a_send_carries_its_publication_and_edition()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed", "--editions", "weekly-fact");
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));
        using var service = NewsletterProcess.Start(app, [], ("Logging__Console__FormatterName", "json"));
        await service.WaitForOutputAsync("Now listening on", Wait);

        int publication;
        await using (var host = await app.StartHostAsync())
        {
            publication = await host.InScopeAsync<Publisher, int>(async p => (await p.PublishNowAsync(issue)).Publication!.Id);
        }
        await service.WaitForOutputAsync($"Publication {publication} (weekly-fact) completed", Wait);

        var lines = service.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(entries, e => Assert.True(e.TryGetProperty("LogLevel", out _), e.ToString()));
        var sent = Assert.Single(entries, e => e.GetProperty("Message").GetString()!.StartsWith($"Publication {publication} (weekly-fact) completed", StringComparison.Ordinal));
        var scope = Assert.Single(sent.GetProperty("Scopes").EnumerateArray(), s => s.TryGetProperty("PublicationId", out _));
        Assert.Equal(publication, scope.GetProperty("PublicationId").GetInt32());
        Assert.Equal("weekly-fact", scope.GetProperty("Edition").GetString());
        Assert.Equal($"publication {publication} (weekly-fact)", scope.GetProperty("Message").GetString());
        Assert.True(sent.TryGetProperty("Timestamp", out _), sent.ToString());
    }

    [Fact]
    public async Task In_a_container_ASPNETCORE_HTTP_PORTS_wins_over_the_desktop_address_of_appsettings()
    {
        await using var app = TestApp.Create();
        var port = ReadinessTests.ClosedPort();
        // Urls as appsettings.json gives it (the test harness otherwise sets its own in the environment).
        using var service = NewsletterProcess.Start(app, [], ("Urls", ""), ("ASPNETCORE_HTTP_PORTS", port.ToString(CultureInfo.InvariantCulture)));
        await service.WaitForOutputAsync("Now listening on", Wait);

        using var client = new HttpClient();
        using var ready = await client.GetAsync($"http://127.0.0.1:{port}/healthz");

        Assert.True(ready.StatusCode == HttpStatusCode.OK, service.Output);
        Assert.Contains($"Now listening on: http://[::]:{port}", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_folder_it_cannot_write_stops_the_start_with_one_line_and_exit_2()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        // Nothing can be created under /proc, whoever runs the tests (root ignores a read-only mode).
        var pickup = "/proc/newsletter-pickup";

        var result = await NewsletterProcess.RunAsync(app, [], ("Delivery__PickupDirectory", pickup));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"configuration: Delivery:PickupDirectory: cannot write to {pickup}", line, StringComparison.Ordinal);
        Assert.Contains("Delivery__PickupDirectory", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_folder_it_cannot_write_stops_the_start_with_one_line_and_exit_2()
    {
        await using var app = TestApp.Create();
        var database = "/proc/newsletter-data/newsletter.db";

        var result = await NewsletterProcess.RunAsync(app, [], ("ConnectionStrings__Newsletter", $"Data Source={database}"));

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"configuration: ConnectionStrings:Newsletter: cannot open the SQLite database {database}", line, StringComparison.Ordinal);
    }
}
