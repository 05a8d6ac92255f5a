using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Suppressions;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Links;

/// <summary>The keyed address hash: stored hashes of before are converted once, and the service says when keys live in the database.</summary>
public sealed class AddressHashTests
{
    private static readonly DateTime Now = new(2026, 11, 2, 9, 0, 0, DateTimeKind.Utc);

    /// <summary>A database as an older version left it: unkeyed hashes, and no mark of a conversion.</summary>
    private static async Task ArrangeUnkeyedRowsAsync(TestApp app)
    {
        await app.CreateDatabaseAsync();
        await using var db = app.OpenDb();
        db.Subscribers.Add(new Subscriber
        {
            Email = "Ada@Example.org", NormalizedEmail = "ada@example.org", EmailHash = EmailAddress.UnkeyedHash("ada@example.org"),
            Status = SubscriberStatus.Confirmed, CreatedAt = Now,
        });
        db.Suppressions.Add(new Suppression { EmailHash = EmailAddress.UnkeyedHash("gone@example.org"), Reason = SuppressionReason.HardBounce, CreatedAt = Now });
        await db.Settings.Where(s => s.Key == "address-hash-keyed").ExecuteDeleteAsync();
        await db.SaveChangesAsync();
    }

    private static async Task<(string Subscriber, string Suppression)> StoredHashesAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        return ((await db.Subscribers.SingleAsync()).EmailHash, (await db.Suppressions.SingleAsync()).EmailHash);
    }

    [Fact]
    public async Task Stored_unkeyed_hashes_are_converted_at_start_so_suppressions_still_match()
    {
        await using var app = TestApp.Create();
        await ArrangeUnkeyedRowsAsync(app);

        await using var host = await app.StartHostAsync();

        Assert.Equal((TestApp.AddressHash("ada@example.org"), TestApp.AddressHash("gone@example.org")), await StoredHashesAsync(app));
        await using var scope = host.CreateScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<SuppressionList>().IsSuppressedAsync("Gone@Example.org"));
        Assert.NotEqual(EmailAddress.UnkeyedHash("gone@example.org"), TestApp.AddressHash("gone@example.org"));
    }

    [Fact]
    public async Task The_conversion_runs_once_a_second_start_changes_nothing()
    {
        await using var app = TestApp.Create();
        await ArrangeUnkeyedRowsAsync(app);
        await app.CreateDatabaseAsync();
        var once = await StoredHashesAsync(app);

        await app.CreateDatabaseAsync();

        Assert.Equal(once, await StoredHashesAsync(app));
        Assert.Equal(TestApp.AddressHash("ada@example.org"), once.Subscriber);
    }

    [Fact]
    public async Task Another_hash_key_than_the_one_the_hashes_were_made_with_stops_the_start_naming_the_setting()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        app.Set("Newsletter:AddressHashKey", Convert.ToBase64String(new byte[32]));

        var result = await app.RunCliAsync("issues", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Newsletter:AddressHashKey: is not the key this database's address hashes were made with", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "Production", true)]
    [InlineData(true, "Production", false)]
    [InlineData(false, "Development", false)]
    public async Task The_service_warns_once_at_start_outside_development_when_keys_live_in_the_database(
        bool configured, string environment, bool warned)
    {
        await using var app = TestApp.Create(tokenSecret: configured);
        var logs = new LogCapture();
        await using var web = app.CreateWebApp().WithWebHostBuilder(b =>
        {
            b.UseEnvironment(environment);
            b.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(logs));
        });

        using var client = web.CreateClient();
        await client.GetAsync("/subscribe");

        var warnings = logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.Contains("kept in the database", StringComparison.Ordinal)).ToList();
        Assert.Equal(warned ? 1 : 0, warnings.Count);
        if (warned)
        {
            Assert.Contains("Newsletter:TokenKeys", warnings[0].Message, StringComparison.Ordinal);
            Assert.Contains("Newsletter:AddressHashKey", warnings[0].Message, StringComparison.Ordinal);
        }
    }
}
