using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// What the statements a send runs per batch cost as the list grows: a statement that names its
/// deliveries by id must reach them by primary key, never by walking every delivery of the
/// publication. Read from SQLite's own plan for the exact SQL the engine ran (captured from EF
/// Core's command log).
/// </summary>
public sealed partial class QueryPlanTests
{
    private const string CommandCategory = "Microsoft.EntityFrameworkCore.Database.Command";

    // Guards the claim against SQLite's planner: with the publication id also in its WHERE, the
    // UPDATE that claims a batch by id was planned over the (PublicationId, SubscriberId) index and
    // read every row of the publication on each claim (~27 ms per claim at 200,000 recipients, a
    // cost that grew with the list).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Statements_that_name_deliveries_by_id_find_them_by_primary_key_not_by_walking_the_publication(bool withStatistics) =>
        SendAsync(withStatistics, async (statements, connection) =>
        {
            var byId = statements
                .Where(sql => sql.Contains("FROM \"Deliveries\"", StringComparison.Ordinal) || sql.StartsWith("UPDATE \"Deliveries\"", StringComparison.Ordinal))
                .Where(sql => ById().IsMatch(sql))
                .ToList();
            Assert.Contains(byId, DeliveryWorld.IsClaim);
            Assert.Contains(byId, sql => IdList().IsMatch(sql));

            foreach (var sql in byId)
            {
                var plan = await PlanAsync(connection, sql);
                Assert.True(plan.All(step => step.Contains("PRIMARY KEY", StringComparison.Ordinal) || !step.Contains(" d ", StringComparison.Ordinal)),
                    $"planned without the primary key:\n{string.Join('\n', plan)}\nfor\n{sql}");
                Assert.Contains(plan, step => step.Contains("INTEGER PRIMARY KEY", StringComparison.Ordinal));
            }
        });

    // Guards the rest of what a send runs against the same planner trap: apart from the progress
    // counts (every ProgressInterval, which count the whole publication by design), no statement on
    // the deliveries walks every row of the publication; each reads a range of the
    // (PublicationId, Status, …) index or rows by key.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task No_statement_of_a_send_except_the_progress_count_walks_every_delivery_of_the_publication(bool withStatistics) =>
        SendAsync(withStatistics, async (statements, connection) =>
        {
            var onDeliveries = statements
                .Where(sql => sql.Contains("\"Deliveries\" AS \"d\"", StringComparison.Ordinal))
                .Where(sql => !sql.Contains("GROUP BY", StringComparison.Ordinal))
                .ToList();
            Assert.True(onDeliveries.Count >= 5, $"the send's statements were captured ({onDeliveries.Count})");

            foreach (var sql in onDeliveries)
            {
                var plan = await PlanAsync(connection, sql);
                Assert.False(plan.Any(step => step.EndsWith("(PublicationId=?)", StringComparison.Ordinal) || step.StartsWith("SCAN d", StringComparison.Ordinal)),
                    $"walks the publication:\n{string.Join('\n', plan)}\nfor\n{sql}");
            }
        });

    /// <summary>
    /// Sends an issue to 40 readers over one connection (claims of 10, so ids go in as a JSON list, as
    /// in a real send) and hands <paramref name="check"/> the distinct SQL statements the send ran and a
    /// connection to the same database. <paramref name="withStatistics"/>: as the running service leaves the
    /// database once its statistics job has run (DatabaseStatistics), before the publication.
    /// </summary>
    private static async Task SendAsync(bool withStatistics, Func<List<string>, SqliteConnection, Task> check)
    {
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set($"Logging:LogLevel:{CommandCategory}", "Information")
            .Set("Delivery:Connections", "1"));
        await world.AddSubscribersAsync(40);
        if (withStatistics)
        {
            await using var db = world.App.OpenDb();
            await Newsletter.Worker.Data.DatabaseStatistics.RefreshAsync(db, CancellationToken.None);
            Assert.True(await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM sqlite_stat1").SingleAsync() > 0);
        }
        var publicationId = await world.PublishAsync();
        var sendStarts = world.Logs.Lines.Count;
        Assert.Equal(40, (await world.RunAsync(publicationId)).Sent);

        var statements = world.Logs.Lines.Skip(sendStarts)
            .Where(l => l.Category == CommandCategory)
            .Select(l => Sql(l.Message))
            .Distinct()
            .ToList();
        await using var connection = new SqliteConnection(world.App.ConnectionString);
        await connection.OpenAsync();
        await check(statements, connection);
    }

    /// <summary>SQLite's plan for <paramref name="sql"/> (every parameter bound to NULL: the plan does not depend on values here).</summary>
    private static async Task<List<string>> PlanAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var name in Parameter().Matches(sql).Select(m => m.Value).Distinct())
        {
            command.Parameters.AddWithValue(name, DBNull.Value);
        }
        var steps = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            steps.Add(reader.GetString(3));
        }
        return steps;
    }

    /// <summary>The SQL text of an EF Core "Executed DbCommand" log line (what follows its first line).</summary>
    private static string Sql(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[(newline + 1)..].Trim();
    }

    [GeneratedRegex("\"d\"\\.\"Id\" (= @|IN \\()")]
    private static partial Regex ById();

    [GeneratedRegex("\"d\"\\.\"Id\" IN \\(\\s*SELECT[^)]*json_each\\(@")]
    private static partial Regex IdList();

    [GeneratedRegex("@[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Parameter();
}
