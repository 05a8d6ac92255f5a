using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>The pickup folder keeps each message (a reader's address, live links) for
/// <c>Delivery:PickupRetention</c>, not for ever.</summary>
public sealed class PickupRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Message_files_older_than_the_retention_are_deleted_and_newer_ones_and_other_files_kept()
    {
        await using var app = TestApp.Create();
        var logs = new LogCapture();
        await using var host = await app.StartHostAsync(s => s.AddSingleton<TimeProvider>(new FakeTimeProvider(Now)).AddSingleton<ILoggerProvider>(logs));
        var old = Write(app, "old.eml", TimeSpan.FromDays(8));
        var halfWritten = Write(app, "crashed.tmp", TimeSpan.FromDays(30));
        var recent = Write(app, "recent.eml", TimeSpan.FromDays(6));
        var notOurs = Write(app, "readme.txt", TimeSpan.FromDays(30));
        var nested = Write(app, Path.Combine("kept", "old.eml"), TimeSpan.FromDays(30));

        var removed = host.Services.GetRequiredService<PickupRetention>().RemoveExpired();

        Assert.Equal(2, removed);
        Assert.False(File.Exists(old));
        Assert.False(File.Exists(halfWritten));
        Assert.All(new[] { recent, notOurs, nested }, f => Assert.True(File.Exists(f), $"{f} was deleted"));
        Assert.True(logs.Contains(LogLevel.Information, "deleted 2 message file(s) older than 7 days"),
            string.Join('\n', logs.Lines.Select(l => l.Message)));
    }

    [Fact]
    public async Task A_retention_of_zero_keeps_every_file()
    {
        await using var app = TestApp.Create();
        app.Set("Delivery:PickupRetention", "00:00:00");
        await using var host = await app.StartHostAsync(s => s.AddSingleton<TimeProvider>(new FakeTimeProvider(Now)));
        var ancient = Write(app, "ancient.eml", TimeSpan.FromDays(3000));

        var removed = host.Services.GetRequiredService<PickupRetention>().RemoveExpired();

        Assert.Equal(0, removed);
        Assert.True(File.Exists(ancient));
    }

    [Fact]
    public async Task The_running_service_clears_old_files_at_start()
    {
        await using var app = TestApp.Create();
        var now = TimeProvider.System.GetUtcNow();
        var old = Write(app, "old.eml", TimeSpan.FromDays(10), now);
        var recent = Write(app, "recent.eml", TimeSpan.FromDays(1), now);

        await using var web = app.CreateWebApp();
        _ = web.Services;

        await Poll.UntilAsync(() => !File.Exists(old), "the service deleted the 10-day-old message file");
        Assert.True(File.Exists(recent));
    }

    [Theory]
    [InlineData("Delivery:PickupRetention", "-1.00:00:00")]
    [InlineData("Logging:IncludeAddresses", "sometimes")]
    public async Task A_bad_value_for_a_privacy_setting_stops_the_command_naming_the_setting(string key, string value)
    {
        await using var app = TestApp.Create();
        app.Set(key, value);

        var result = await app.RunCliAsync("editions");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(key, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    /// <summary>Writes a file in the pickup folder, last written <paramref name="age"/> before <paramref name="now"/> (default <see cref="Now"/>).</summary>
    private static string Write(TestApp app, string name, TimeSpan age, DateTimeOffset? now = null)
    {
        var path = Path.Combine(app.PickupDirectory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "To: someone@example.org\r\n\r\nhello\r\n");
        File.SetLastWriteTimeUtc(path, ((now ?? Now) - age).UtcDateTime);
        return path;
    }
}
