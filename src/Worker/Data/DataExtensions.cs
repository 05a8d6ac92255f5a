using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Newsletter";
    public const string DefaultSqliteConnectionString = "Data Source=data/newsletter.db";

    /// <summary>Registers the one DbContext for the configured provider. Code asks for
    /// <see cref="NewsletterDbContext"/>; the provider's subclass answers. The provider and
    /// connection string are read when the context is first needed, so configuration added after
    /// this call (by a test, or a command) still counts.</summary>
    public static IHostApplicationBuilder AddNewsletterData(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .Validate(o => o.StatisticsInterval >= TimeSpan.Zero, "Database:StatisticsInterval must be 00:00:00 (off) or longer")
            .ValidateOnStart();
        services.AddDbContext<SqliteNewsletterDbContext>((sp, o) => o.UseSqlite(
            ResolveSqliteConnectionString(ConnectionString(sp) ?? DefaultSqliteConnectionString)).ConfigureWarnings(QuietCommandErrors));
        services.AddDbContext<SqlServerNewsletterDbContext>((sp, o) => o.UseSqlServer(RequiredConnectionString(sp, "SqlServer"))
            .ConfigureWarnings(QuietCommandErrors));
        services.AddDbContext<PostgreSqlNewsletterDbContext>((sp, o) => o.UseNpgsql(RequiredConnectionString(sp, "PostgreSql"))
            .ConfigureWarnings(QuietCommandErrors));
        services.AddScoped<NewsletterDbContext>(sp => sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider switch
        {
            DatabaseProvider.SqlServer => sp.GetRequiredService<SqlServerNewsletterDbContext>(),
            DatabaseProvider.PostgreSql => sp.GetRequiredService<PostgreSqlNewsletterDbContext>(),
            _ => sp.GetRequiredService<SqliteNewsletterDbContext>(),
        });
        services.AddScoped<DatabasePreparer>();
        return builder;
    }

    // A failed command is reported by the code that ran it, in its own words (a full disk is one line
    // per outage: DeliveryWrites); EF's own error for each, with a stack trace, would repeat it per attempt.
    private static void QuietCommandErrors(WarningsConfigurationBuilder warnings) =>
        warnings.Log((RelationalEventId.CommandError, LogLevel.Debug));

    private static string RequiredConnectionString(IServiceProvider services, string provider) =>
        ConnectionString(services) is { Length: > 0 } connectionString
            ? connectionString
            : throw new OptionsValidationException(ConnectionStringName, typeof(DatabaseOptions),
                [$"ConnectionStrings:{ConnectionStringName} is required when Database:Provider is {provider}."]);

    /// <summary>The configured connection string, as the DbContext registration reads it.</summary>
    internal static string? ConnectionString(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName);

    /// <summary>The full path of the SQLite file a connection string names (relative to the working
    /// directory), or null for an in-memory database. Creates nothing.</summary>
    public static string? SqliteFilePath(string connectionString)
    {
        var csb = new SqliteConnectionStringBuilder(connectionString);
        return csb.DataSource is { Length: > 0 } source && source != ":memory:" && csb.Mode != SqliteOpenMode.Memory
            ? Path.GetFullPath(source)
            : null;
    }

    /// <summary>
    /// Makes a SQLite file path absolute (relative paths are taken from the working directory) and
    /// creates its folder, so the path printed at start is the file actually used.
    /// </summary>
    public static string ResolveSqliteConnectionString(string connectionString)
    {
        var csb = new SqliteConnectionStringBuilder(connectionString);
        if (SqliteFilePath(connectionString) is { } full)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            csb.DataSource = full;
        }
        // Waiting briefly for another writer (a second instance, the CLI) beats failing with SQLITE_BUSY.
        if (!connectionString.Contains("timeout", StringComparison.OrdinalIgnoreCase))
        {
            csb.DefaultTimeout = 30;
        }
        return csb.ToString();
    }
}

/// <summary>Brings the schema up to date at start and says which database is in use.</summary>
public sealed class DatabasePreparer(
    NewsletterDbContext db, IOptions<DatabaseOptions> options, ILogger<DatabasePreparer> logger)
{
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (db.Database.IsSqlite())
        {
            var csb = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
            logger.LogInformation("Database: SQLite file {Path}", csb.DataSource);
        }
        else
        {
            var connection = db.Database.GetDbConnection();
            logger.LogInformation("Database: {Provider} {DataSource}, database {Database}",
                db.Database.IsNpgsql() ? "PostgreSQL" : "SQL Server", connection.DataSource, connection.Database);
        }

        // MigrateAsync on an up-to-date database still takes the migration lock and compares the model
        // with the snapshot, the larger part of a command's start; so it runs only when something is pending.
        if (o.MigrateOnStart && !await IsUpToDateAsync(cancellationToken))
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        if (db.Database.IsSqlite())
        {
            // WAL lets readers (the CLI, the web pages) work while a send writes; it is a property of the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>Whether the newest migration this build knows is applied. One read of the history table:
    /// EF's GetPendingMigrations first builds a model of that table, about a tenth of a command's start
    /// (docs/benchmarks.md, Start-up).</summary>
    internal async Task<bool> IsUpToDateAsync(CancellationToken cancellationToken)
    {
        if (db.Database.GetMigrations().LastOrDefault() is not { } newest)
        {
            return true;
        }
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            // Quoted: PostgreSQL folds unquoted names to lower case; the others accept the quotes.
            command.CommandText = "SELECT MAX(\"MigrationId\") FROM \"__EFMigrationsHistory\"";
            return await command.ExecuteScalarAsync(cancellationToken) is string applied
                   && string.CompareOrdinal(applied, newest) >= 0;
        }
        catch (DbException)
        {
            // No history table: a new database. Anything worse is met again, and reported, by MigrateAsync.
            return false;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}

/// <summary>Design-time factories for <c>dotnet ef</c>; the connection strings are placeholders
/// (migrations and scripts generate without a server).</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteNewsletterDbContext>
{
    public SqliteNewsletterDbContext CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<SqliteNewsletterDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

public sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<SqlServerNewsletterDbContext>
{
    public SqlServerNewsletterDbContext CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<SqlServerNewsletterDbContext>()
            .UseSqlServer("Server=localhost;Database=Newsletter;Integrated Security=true;TrustServerCertificate=true").Options);
}

public sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlNewsletterDbContext>
{
    public PostgreSqlNewsletterDbContext CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<PostgreSqlNewsletterDbContext>()
            .UseNpgsql("Host=localhost;Database=newsletter;Username=newsletter").Options);
}
