using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Newsletter";
    public const string DefaultSqliteConnectionString = "Data Source=data/newsletter.db";

    /// <summary>Registers the one DbContext for the configured provider. Code asks for
    /// <see cref="NewsletterDbContext"/>; the provider's subclass answers.</summary>
    public static IHostApplicationBuilder AddNewsletterData(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        var provider = builder.Configuration.GetValue(
            $"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Provider)}", DatabaseProvider.Sqlite);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);

        switch (provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = ResolveSqliteConnectionString(connectionString ?? DefaultSqliteConnectionString);
                builder.Services.AddDbContext<NewsletterDbContext, SqliteNewsletterDbContext>(o => o.UseSqlite(sqlite));
                break;
            case DatabaseProvider.SqlServer:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new OptionsValidationException(ConnectionStringName, typeof(DatabaseOptions),
                        [$"ConnectionStrings:{ConnectionStringName} is required when Database:Provider is SqlServer."]);
                }
                builder.Services.AddDbContext<NewsletterDbContext, SqlServerNewsletterDbContext>(
                    o => o.UseSqlServer(connectionString));
                break;
        }
        builder.Services.AddScoped<DatabasePreparer>();
        return builder;
    }

    /// <summary>
    /// Makes a SQLite file path absolute (relative paths are taken from the working directory) and
    /// creates its folder, so the path printed at start is the file actually used.
    /// </summary>
    public static string ResolveSqliteConnectionString(string connectionString)
    {
        var csb = new SqliteConnectionStringBuilder(connectionString);
        if (csb.DataSource is { Length: > 0 } source && source != ":memory:" && csb.Mode != SqliteOpenMode.Memory)
        {
            var full = Path.GetFullPath(source);
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
            logger.LogInformation("Database: SQL Server {DataSource}", db.Database.GetDbConnection().DataSource);
        }

        if (o.MigrateOnStart)
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        if (db.Database.IsSqlite())
        {
            // WAL lets readers (the CLI, the web pages) work while a send writes; it is a property of the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
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
