using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Data;

/// <summary>The readers' tables get SQLite statistics (what the service's statistics job runs), and the
/// job's interval is checked at start.</summary>
public sealed class DatabaseStatisticsTests
{
    [Fact]
    public async Task Refreshing_gathers_statistics_for_the_readers_tables_only()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed");
        await using var db = app.OpenDb();

        await DatabaseStatistics.RefreshAsync(db, CancellationToken.None);

        var analysed = await db.Database.SqlQueryRaw<string>("SELECT DISTINCT tbl AS \"Value\" FROM sqlite_stat1 ORDER BY tbl").ToListAsync();
        Assert.Equal(["Subscribers", "Subscriptions"], analysed);
    }

    [Fact]
    public async Task A_negative_interval_stops_a_command_with_exit_2_naming_the_key()
    {
        await using var app = TestApp.Create();
        app.Set("Database:StatisticsInterval", "-00:01:00");

        var result = await app.RunCliAsync("editions");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("StatisticsInterval", result.Error, StringComparison.Ordinal);
    }
}
