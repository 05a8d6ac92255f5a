namespace Newsletter.Worker.Data;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
    PostgreSql,
}

/// <summary>Which database, and whether the service brings its schema up to date at start.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations at start. Turn off where a DBA applies the SQL script.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How often the running service refreshes SQLite's statistics of the readers' tables (first at
    /// start); zero turns it off.</summary>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromDays(1);
}
