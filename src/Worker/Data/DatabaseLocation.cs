using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Data;

/// <summary>Where the configured database is, known before it is opened.</summary>
public static class DatabaseLocation
{
    /// <summary>The SQLite file's full path; null for a server database or an in-memory one.</summary>
    public static string? SqliteFile(IServiceProvider services)
    {
        if (services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider != DatabaseProvider.Sqlite)
        {
            return null;
        }
        return DataExtensions.SqliteFilePath(DataExtensions.ConnectionString(services) ?? DataExtensions.DefaultSqliteConnectionString);
    }

    public static string Describe(IServiceProvider services) =>
        SqliteFile(services) is { } file ? $"the SQLite database {file}" : "the configured database";
}
