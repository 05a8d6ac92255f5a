using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Tests.Infrastructure.Mailbox;
using Npgsql;

namespace Newsletter.Tests.Cli;

/// <summary>A server database that cannot be used at start is one line and exit 2, for a command and for the
/// service alike; nothing is created or changed.</summary>
public sealed class ServerDatabaseStartTests
{
    [Fact]
    public async Task A_PostgreSQL_server_that_does_not_answer_is_one_line_naming_it()
    {
        var closed = LoopbackPorts.Free(1)[0];
        await using var app = TestApp.Create()
            .Set("Database:Provider", "PostgreSql")
            .Set("ConnectionStrings:Newsletter", $"Host=127.0.0.1;Port={closed};Username=newsletter;Database=newsletter;Timeout=3");

        var command = await app.RunCliAsync("subscribers", "list");
        var service = await ServiceStartTests.StartServiceAsync(app);

        var expected = $"configuration: ConnectionStrings:Newsletter: cannot open the configured database: Failed to connect to 127.0.0.1:{closed}";
        AssertOneProblem(command, expected);
        AssertOneProblem(service, expected);
    }

    [Fact]
    public async Task A_wrong_PostgreSQL_password_is_one_line_and_the_database_is_untouched()
    {
        var server = TestPostgres.Instance;
        var database = server.CreateDatabase();
        try
        {
            var wrong = new NpgsqlConnectionStringBuilder(database) { Username = TestPostgres.PasswordUser, Password = "not-it" };
            await using var app = TestApp.Create()
                .Set("Database:Provider", "PostgreSql")
                .Set("ConnectionStrings:Newsletter", wrong.ConnectionString);

            var result = await app.RunCliAsync("subscribers", "list");

            AssertOneProblem(result, "configuration: ConnectionStrings:Newsletter: cannot open the configured database: 28P01: password authentication failed for user \"guarded\"");
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
            Assert.Equal(0L, await tables.ExecuteScalarAsync());
        }
        finally
        {
            server.DropDatabase(database);
        }
    }

    private static void AssertOneProblem(CliResult result, string start)
    {
        Assert.True(result.ExitCode == 2, $"expected exit 2\n{result}");
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith(start, StringComparison.Ordinal), $"expected one line starting '{start}'\n{result}");
        Assert.DoesNotContain("Exception", result.Out + result.Error, StringComparison.Ordinal);
    }
}
