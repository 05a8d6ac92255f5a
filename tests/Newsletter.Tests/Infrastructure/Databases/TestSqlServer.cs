using Microsoft.Data.SqlClient;

namespace Newsletter.Tests.Infrastructure.Databases;

/// <summary>Databases on the SQL Server that <c>NEWSLETTER_TEST_SQLSERVER</c> names (any database on it;
/// the login must be allowed to create databases): one per test, dropped after it.</summary>
public static class TestSqlServer
{
    public static string CreateDatabase(string server)
    {
        var name = $"newsletter_test_{Guid.NewGuid():N}";
        Execute(server, $"CREATE DATABASE [{name}]");
        return new SqlConnectionStringBuilder(server) { InitialCatalog = name }.ConnectionString;
    }

    public static void DropDatabase(string connectionString)
    {
        var builder = new SqlConnectionStringBuilder(connectionString);
        SqlConnection.ClearPool(new SqlConnection(connectionString));
        var name = builder.InitialCatalog;
        builder.InitialCatalog = "master";
        Execute(builder.ConnectionString,
            $"IF DB_ID(N'{name}') IS NOT NULL BEGIN ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}]; END");
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new SqlConnection(connectionString);
        connection.Open();
        using var command = new SqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
