using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Infrastructure.Databases;

/// <summary>
/// Which database <see cref="TestApp.Create"/> gives the test running now: a SQLite file (the default), or
/// a fresh database on the test PostgreSQL server or on the SQL Server named by
/// <c>NEWSLETTER_TEST_SQLSERVER</c>. A test class derived for another database sets it in its constructor
/// (<see cref="UseFor"/>); the choice flows into that test alone.
/// </summary>
public static class TestDatabases
{
    public const string SqlServerVariable = "NEWSLETTER_TEST_SQLSERVER";

    private static readonly AsyncLocal<DatabaseProvider?> Current = new();

    public static DatabaseProvider Provider => Current.Value ?? DatabaseProvider.Sqlite;

    public static void Use(DatabaseProvider provider) => Current.Value = provider;

    /// <summary>Uses the database <paramref name="suite"/>'s class names with <see cref="OnDatabaseAttribute"/>.</summary>
    public static void UseFor(object suite) => Use(
        ((OnDatabaseAttribute?)Attribute.GetCustomAttribute(suite.GetType(), typeof(OnDatabaseAttribute))
            ?? throw new InvalidOperationException($"{suite.GetType().Name} names no database ([OnDatabase])")).Provider);

    /// <summary>The SQL Server connection string the tests were given, if any.</summary>
    public static string? SqlServer => Environment.GetEnvironmentVariable(SqlServerVariable) is { Length: > 0 } s ? s : null;

    /// <summary>A new, empty database for <paramref name="provider"/> (null for SQLite, whose file the app creates).</summary>
    public static string? Create(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.PostgreSql => TestPostgres.Instance.CreateDatabase(),
        DatabaseProvider.SqlServer => TestSqlServer.CreateDatabase(SqlServer ?? throw new InvalidOperationException(
            $"{SqlServerVariable} is not set: the SQL Server tests need a server to run against")),
        _ => null,
    };

    public static void Drop(DatabaseProvider provider, string connectionString)
    {
        switch (provider)
        {
            case DatabaseProvider.PostgreSql:
                TestPostgres.Instance.DropDatabase(connectionString);
                break;
            case DatabaseProvider.SqlServer:
                TestSqlServer.DropDatabase(connectionString);
                break;
        }
    }

    /// <summary>A context on <paramref name="connectionString"/> for arranging and checking data directly.</summary>
    public static NewsletterDbContext Open(DatabaseProvider provider, string connectionString) => provider switch
    {
        DatabaseProvider.PostgreSql => new PostgreSqlNewsletterDbContext(
            new DbContextOptionsBuilder<PostgreSqlNewsletterDbContext>().UseNpgsql(connectionString).Options),
        DatabaseProvider.SqlServer => new SqlServerNewsletterDbContext(
            new DbContextOptionsBuilder<SqlServerNewsletterDbContext>().UseSqlServer(connectionString).Options),
        _ => new SqliteNewsletterDbContext(
            new DbContextOptionsBuilder<SqliteNewsletterDbContext>().UseSqlite(connectionString).Options),
    };
}
