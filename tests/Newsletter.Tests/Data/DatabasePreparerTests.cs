using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Data;

/// <summary>The start's schema check: a database missing any migration is migrated; an up-to-date one
/// is left alone, without EF's migration run.</summary>
public sealed class DatabasePreparerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("newsletter-prepare-").FullName;
    private readonly List<string> _migrationRuns = [];

    private string File => Path.Combine(_directory, "newsletter.db");

    private SqliteNewsletterDbContext Context() => new(new DbContextOptionsBuilder<SqliteNewsletterDbContext>()
        .UseSqlite($"Data Source={File}")
        .LogTo(_migrationRuns.Add, [RelationalEventId.MigrateUsingConnection])
        .Options);

    private async Task PrepareAsync()
    {
        await using var db = Context();
        await new DatabasePreparer(db, Options.Create(new DatabaseOptions()), NullLogger<DatabasePreparer>.Instance)
            .PrepareAsync(CancellationToken.None);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={File};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<string>> AppliedAsync()
    {
        await using var db = Context();
        return (await db.Database.GetAppliedMigrationsAsync()).ToList();
    }

    [Fact]
    public async Task A_new_file_is_migrated_to_the_newest_migration()
    {
        await PrepareAsync();

        Assert.Single(_migrationRuns);
        await using var db = Context();
        Assert.Equal(db.Database.GetMigrations(), await AppliedAsync());
        Assert.Equal(0, await db.Subscribers.CountAsync());
    }

    [Fact]
    public async Task An_up_to_date_database_is_not_migrated_again()
    {
        await PrepareAsync();
        _migrationRuns.Clear();

        await PrepareAsync();

        Assert.Empty(_migrationRuns);
    }

    [Theory]
    [InlineData("CREATE TABLE __EFMigrationsHistory (MigrationId TEXT NOT NULL PRIMARY KEY, ProductVersion TEXT NOT NULL)")]
    [InlineData("CREATE TABLE __EFMigrationsHistory (MigrationId TEXT NOT NULL PRIMARY KEY, ProductVersion TEXT NOT NULL); " +
                "INSERT INTO __EFMigrationsHistory VALUES ('20200101000000_Older', '10.0.0')")]
    public async Task A_history_without_the_newest_migration_is_migrated(string history)
    {
        await ExecuteAsync(history);

        await PrepareAsync();

        Assert.Single(_migrationRuns);
        await using var db = Context();
        Assert.Subset(new HashSet<string>(await AppliedAsync()), new HashSet<string>(db.Database.GetMigrations()));
        Assert.Equal(0, await db.Issues.CountAsync());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
