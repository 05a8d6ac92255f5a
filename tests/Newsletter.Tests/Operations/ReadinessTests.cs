using System.Net;
using System.Net.Sockets;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Operations;

/// <summary>
/// Readiness (/readyz) asks the database, its migrations and the mail transport; liveness (/healthz)
/// asks nothing, so a failing dependency takes the service out of rotation without getting it restarted.
/// </summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task With_the_database_migrated_and_a_writable_pickup_folder_the_service_is_ready()
    {
        await using var app = TestApp.Create();
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var ready = await client.GetAsync("/readyz");
        var body = await ready.Content.ReadAsStringAsync();

        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        Assert.StartsWith("Healthy\n", body, StringComparison.Ordinal);
        Assert.Contains("database: Healthy", body, StringComparison.Ordinal);
        Assert.Contains("migrations: Healthy", body, StringComparison.Ordinal);
        Assert.Contains("database-writes: Healthy", body, StringComparison.Ordinal);
        Assert.Contains($"mail: Healthy (the pickup folder {app.PickupDirectory} is writable)", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_SMTP_server_that_does_not_answer_makes_it_not_ready_naming_the_mail_check_while_it_stays_alive()
    {
        await using var app = TestApp.Create();
        app.UseSmtp(ClosedPort());
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var ready = await client.GetAsync("/readyz");
        using var live = await client.GetAsync("/healthz");
        var body = await ready.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.StartsWith("Unhealthy\n", body, StringComparison.Ordinal);
        Assert.Contains("mail: Unhealthy (the SMTP server 127.0.0.1:", body, StringComparison.Ordinal);
        Assert.Contains("database: Healthy", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task A_pickup_folder_that_can_no_longer_be_written_makes_it_not_ready()
    {
        await using var app = TestApp.Create();
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();
        using (var before = await client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        // A file where the folder was (what a read-only or vanished mount looks like to the service).
        Directory.Delete(app.PickupDirectory, recursive: true);
        await File.WriteAllTextAsync(app.PickupDirectory, "not a folder");

        using var ready = await client.GetAsync("/readyz");
        using var live = await client.GetAsync("/healthz");
        var body = await ready.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains($"mail: Unhealthy (the pickup folder: cannot write to {app.PickupDirectory}", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task A_database_behind_this_build_is_not_ready_naming_the_migrations()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using (var db = app.OpenDb())
        {
            // As if an older build had created it: the newest migration is not recorded.
            await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.ExecuteSqlRawAsync(db.Database,
                "DELETE FROM __EFMigrationsHistory WHERE MigrationId = (SELECT MAX(MigrationId) FROM __EFMigrationsHistory)");
        }
        app.Set("Database:MigrateOnStart", "false");
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var ready = await client.GetAsync("/readyz");
        var body = await ready.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("migrations: Unhealthy (migrations are pending", body, StringComparison.Ordinal);
    }

    /// <summary>A loopback port nobody listens on: taken, then given back.</summary>
    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
