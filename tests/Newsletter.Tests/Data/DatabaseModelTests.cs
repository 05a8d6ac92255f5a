using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Data;

/// <summary>The server models build and their scripts generate without a server; every provider's
/// migrations and compiled model are current.</summary>
public sealed class DatabaseModelTests
{
    private const string SqlServerConnection = "Server=localhost;Database=x;Trusted_Connection=true;TrustServerCertificate=true";

    private static SqlServerNewsletterDbContext SqlServer() => new(
        new DbContextOptionsBuilder<SqlServerNewsletterDbContext>().UseSqlServer(SqlServerConnection).Options);

    private static PostgreSqlNewsletterDbContext PostgreSql() => new(
        new DbContextOptionsBuilder<PostgreSqlNewsletterDbContext>().UseNpgsql("Host=localhost;Database=x;Username=x").Options);

    private static SqliteNewsletterDbContext Sqlite() => new(
        new DbContextOptionsBuilder<SqliteNewsletterDbContext>().UseSqlite("Data Source=model-only.db").Options);

    [Fact]
    public void The_SQL_Server_create_script_has_the_tables_and_the_one_publication_per_slot_index()
    {
        using var context = SqlServer();

        var script = context.Database.GenerateCreateScript();

        foreach (var table in new[] { "Subscribers", "Subscriptions", "Suppressions", "Issues", "Publications", "Deliveries", "Settings" })
        {
            Assert.Contains($"CREATE TABLE [{table}]", script, StringComparison.Ordinal);
        }
        Assert.Contains("CREATE UNIQUE INDEX [IX_Publications_Edition_SlotUtc] ON [Publications] ([Edition], [SlotUtc])", script, StringComparison.Ordinal);
        Assert.Contains("CREATE UNIQUE INDEX [IX_Deliveries_PublicationId_SubscriberId]", script, StringComparison.Ordinal);
    }

    [Fact]
    public void The_SQL_Server_migration_script_generates_idempotently()
    {
        using var context = SqlServer();

        var script = context.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);

        Assert.Contains("IF NOT EXISTS", script, StringComparison.Ordinal);
        Assert.Contains("__EFMigrationsHistory", script, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE [Publications]", script, StringComparison.Ordinal);
        Assert.Contains("[IX_Publications_Edition_SlotUtc]", script, StringComparison.Ordinal);
        Assert.NotEmpty(context.Database.GetMigrations());
    }

    [Fact]
    public void The_SQL_Server_migrations_are_current_with_the_model()
    {
        using var context = SqlServer();

        Assert.False(context.Database.HasPendingModelChanges(), "the SQL Server model has changes without a migration (README, 'Changing the schema')");
    }

    [Fact]
    public void The_SQLite_migrations_are_current_with_the_model()
    {
        using var context = Sqlite();

        Assert.False(context.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration (README, 'Changing the schema')");
    }

    [Fact]
    public void The_SQLite_compiled_model_is_current_with_the_model()
    {
        using var context = Sqlite();

        AssertCompiledModelIsCurrent(context, typeof(Worker.Data.CompiledModels.Sqlite.SqliteNewsletterDbContextModel));
    }

    [Fact]
    public void The_SQL_Server_compiled_model_is_current_with_the_model()
    {
        using var context = SqlServer();

        AssertCompiledModelIsCurrent(context, typeof(Worker.Data.CompiledModels.SqlServer.SqlServerNewsletterDbContextModel));
    }

    /// <summary>The runtime uses the compiled model in Data/CompiledModels; the design-time model is built
    /// from OnModelCreating. A difference means the compiled model needs regenerating (scripts/regen-compiled-models).</summary>
    private static void AssertCompiledModelIsCurrent(NewsletterDbContext context, Type compiledModel)
    {
        var compiled = context.Model;
        var built = context.GetService<IDesignTimeModel>().Model;

        Assert.IsType(compiledModel, compiled);
        // Entity types, properties with their types and facets, keys, indexes and relationships (not annotations,
        // which the read-optimised model stores differently).
        Assert.Equal(built.ToDebugString(MetadataDebugStringOptions.ShortDefault), compiled.ToDebugString(MetadataDebugStringOptions.ShortDefault));
    }

    [Fact]
    public void The_PostgreSQL_migrations_are_current_with_the_model()
    {
        using var context = PostgreSql();

        Assert.False(context.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration (README, 'Changing the schema')");
    }

    [Fact]
    public void The_PostgreSQL_compiled_model_is_current_with_the_model()
    {
        using var context = PostgreSql();

        AssertCompiledModelIsCurrent(context, typeof(Worker.Data.CompiledModels.PostgreSql.PostgreSqlNewsletterDbContextModel));
    }

    [Fact]
    public void The_PostgreSQL_create_script_has_the_one_publication_per_slot_index()
    {
        using var context = PostgreSql();

        var script = context.Database.GenerateCreateScript();

        Assert.Contains("CREATE UNIQUE INDEX \"IX_Publications_Edition_SlotUtc\" ON \"Publications\" (\"Edition\", \"SlotUtc\")", script, StringComparison.Ordinal);
        Assert.Contains("timestamp with time zone", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_provider_keeps_its_own_migration_history()
    {
        using var sqlServer = SqlServer();
        using var sqlite = Sqlite();
        using var postgreSql = PostgreSql();

        var sqlServerMigrations = sqlServer.GetService<IMigrationsAssembly>().Migrations.Values.ToList();
        var sqliteMigrations = sqlite.GetService<IMigrationsAssembly>().Migrations.Values.ToList();
        var postgreSqlMigrations = postgreSql.GetService<IMigrationsAssembly>().Migrations.Values.ToList();

        Assert.NotEmpty(sqlServerMigrations);
        Assert.NotEmpty(sqliteMigrations);
        Assert.All(sqlServerMigrations, m => Assert.EndsWith(".SqlServer", m.Namespace, StringComparison.Ordinal));
        Assert.All(sqliteMigrations, m => Assert.EndsWith(".Sqlite", m.Namespace, StringComparison.Ordinal));
        Assert.NotEmpty(postgreSqlMigrations);
        Assert.All(postgreSqlMigrations, m => Assert.EndsWith(".PostgreSql", m.Namespace, StringComparison.Ordinal));
    }
}
