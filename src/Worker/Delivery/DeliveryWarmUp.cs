using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Warms the delivery path when the service starts (<c>Delivery:WarmUpMessages</c>, SMTP transport
/// only): a real send of that many messages, by the real engine, from a scratch SQLite database in
/// a temporary directory to a <see cref="DiscardSmtpServer"/> on the loopback. Nothing leaves the
/// machine and the service's own database is not touched.
/// <para>Why: the runtime compiles the send path's hot code (MailKit's SMTP client, MimeKit, EF Core
/// and SQLite, the engine) optimised only once it has run a while, and does it on the same two
/// cores the send needs; a fresh process's first send of 10,000 messages ran at ~60% of the rate of
/// its later ones (docs/benchmarks.md). Done at start, that cost is paid before anyone waits for a
/// send. The warm-up uses SQLite whatever the service's provider, so with SQL Server only the
/// provider-neutral part (SMTP, MIME, the engine) is warmed; and plain SMTP, so TLS is not.</para>
/// </summary>
public sealed class DeliveryWarmUp(
    IConfiguration configuration, IHostEnvironment environment, IEmailRenderer renderer,
    IOptions<DeliveryOptions> options, ILogger<DeliveryWarmUp> logger)
{
    /// <summary>
    /// Deliveries per claim in the warm-up: small, so that the code run once or a few times per claim
    /// (the claim query, settling a batch, EF Core's query pipeline) runs often enough in the warm-up
    /// to be compiled optimised too (after 1,000 calls, the app's runtime setting): 2,000 messages
    /// make 200 claims. At the service's own claim size (250 with the defaults) they made about a
    /// dozen, and the first real send compiled several hundred more methods while it ran
    /// (docs/benchmarks.md).
    /// </summary>
    internal const int WarmUpClaimSize = 10;

    /// <summary>Where the scratch directory is made (the system's temp folder; a test points it elsewhere).</summary>
    internal string ScratchRoot { get; init; } = Path.GetTempPath();

    /// <summary>
    /// Runs the warm-up send and logs what it did. Returns the number of messages the discard server
    /// took (0 when the warm-up is off, or when it failed: a warm-up never stops the service, the first
    /// send is merely slower).
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.WarmUpMessages == 0 || o.Transport != TransportKind.Smtp)
        {
            return 0;
        }
        var clock = Stopwatch.StartNew();
        DirectoryInfo? directory = null;
        string? database = null;
        try
        {
            directory = Directory.CreateDirectory(Path.Combine(ScratchRoot, $"newsletter-warm-up-{Guid.NewGuid():N}"));
            // As the app resolves it, so the pool cleared at the end is the one the scratch host used.
            database = DataExtensions.ResolveSqliteConnectionString(
                new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory.FullName, "warm-up.db") }.ToString());
            await using var smtp = DiscardSmtpServer.Start();
            using (var host = BuildScratchHost(database, smtp.Port))
            {
                await SendAsync(host.Services, o.WarmUpMessages, cancellationToken);
            }
            logger.LogInformation("Delivery path warmed up: {Messages} messages sent to a local discard server in {Elapsed:0.0}s",
                smtp.Messages, clock.Elapsed.TotalSeconds);
            return smtp.Messages;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Warming up the delivery path failed; the service goes on, and its first send will be slower");
            return 0;
        }
        finally
        {
            if (database is not null)
            {
                // The scratch database's pooled connections hold its files open (the service's own pool is left alone).
                using var pooled = new SqliteConnection(database);
                SqliteConnection.ClearPool(pooled);
            }
            try
            {
                directory?.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "The warm-up's scratch directory {Directory} could not be deleted", directory!.FullName);
            }
        }
    }

    /// <summary>The app as the service builds it, on the service's own settings except where it sends
    /// from and to: a scratch SQLite file, and the discard server without TLS or authentication.</summary>
    private IHost BuildScratchHost(string connectionString, int port)
    {
        // An empty builder: no configuration sources and no log output of its own.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = environment.ContentRootPath,
            ApplicationName = environment.ApplicationName,
            EnvironmentName = environment.EnvironmentName,
        });
        builder.Configuration.AddConfiguration(configuration, shouldDisposeConfiguration: false);
        builder.Configuration.AddInMemoryCollection(ScratchSettings(options.Value, connectionString, port));
        builder.AddNewsletterCore();
        // The service's compiled templates: compiling them again would cost a second and warm nothing new.
        builder.Services.AddSingleton(renderer);
        return builder.Build();
    }

    /// <summary>What the scratch host changes in the service's configuration.</summary>
    internal static Dictionary<string, string?> ScratchSettings(DeliveryOptions delivery, string connectionString, int port) => new()
    {
        ["ConnectionStrings:Newsletter"] = connectionString,
        ["Database:Provider"] = nameof(DatabaseProvider.Sqlite),
        ["Database:MigrateOnStart"] = "true",
        ["Delivery:Transport"] = nameof(TransportKind.Smtp),
        ["Delivery:MessagesPerSecond"] = "0",
        ["Delivery:WarmUpMessages"] = "0",
        ["Delivery:BatchSize"] = $"{Math.Clamp(delivery.Connections * WarmUpClaimSize, 1, 10_000)}",
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = $"{port}",
        ["Smtp:Security"] = nameof(SmtpSecurity.None),
        ["Smtp:UserName"] = null,
        ["Smtp:Password"] = null,
        ["Scheduling:Enabled"] = "false",
    };

    private static async Task SendAsync(IServiceProvider services, int messages, CancellationToken cancellationToken)
    {
        await services.PrepareNewsletterAsync(warmUpTemplates: false, cancellationToken);
        var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        int issueId;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            await connection.OpenAsync(cancellationToken);
            await AddReadersAsync(connection, messages, editions.Keys, now, cancellationToken);
            var issue = new Issue
            {
                Edition = editions.Keys[0],
                Subject = "Warm-up: nothing is sent",
                BodyMarkdown = WarmUpBody,
                Status = IssueStatus.Queued,
                QueuedAt = now,
            };
            db.Issues.Add(issue);
            await db.SaveChangesAsync(cancellationToken);
            issueId = issue.Id;
        }
        int publicationId;
        await using (var scope = services.CreateAsyncScope())
        {
            var published = await scope.ServiceProvider.GetRequiredService<Publisher>().PublishNowAsync(issueId, cancellationToken);
            publicationId = published.Publication!.Id;
        }
        var final = await services.GetRequiredService<DeliveryEngine>().RunAsync(publicationId, null, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested(); // a stopped engine returns what it did; the warm-up is simply over
        if (final.Sent != messages)
        {
            throw new InvalidOperationException($"the warm-up send ended with {final}, not {messages} sent");
        }
    }

    /// <summary>
    /// Adds <paramref name="count"/> confirmed readers, reader1…readerN@example.org, each subscribed to
    /// every edition in <paramref name="editions"/>, in one transaction (one prepared statement, run
    /// per reader). Every third has no name, so both greetings are built. For scratch databases (the
    /// warm-up, the benchmark); <paramref name="connection"/> must be open and its schema migrated.
    /// </summary>
    public static async Task AddReadersAsync(
        SqliteConnection connection, int count, IEnumerable<string> editions, DateTime now, CancellationToken cancellationToken = default)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO "Subscribers" ("Id", "Email", "NormalizedEmail", "EmailHash", "Name", "Status", "CreatedAt", "ConfirmedAt")
            VALUES (@id, @email, @email, @hash, @name, @confirmed, @now, @now);
            INSERT INTO "Subscriptions" ("SubscriberId", "Edition", "Status", "SubscribedAt")
            SELECT @id, e.value, @active, @now FROM json_each(@editions) e;
            """;
        var id = insert.Parameters.Add("@id", SqliteType.Integer);
        var email = insert.Parameters.Add("@email", SqliteType.Text);
        var hash = insert.Parameters.Add("@hash", SqliteType.Text);
        var name = insert.Parameters.Add("@name", SqliteType.Text);
        insert.Parameters.AddWithValue("@confirmed", (int)SubscriberStatus.Confirmed);
        insert.Parameters.AddWithValue("@active", (int)SubscriptionStatus.Active);
        insert.Parameters.AddWithValue("@now", DateTime.SpecifyKind(now, DateTimeKind.Utc));
        insert.Parameters.AddWithValue("@editions", System.Text.Json.JsonSerializer.Serialize(editions.ToArray()));
        for (var i = 1; i <= count; i++)
        {
            var address = $"reader{i}@example.org";
            id.Value = i;
            email.Value = address;
            hash.Value = EmailAddress.Hash(address);
            name.Value = i % 3 == 0 ? DBNull.Value : $"Reader {i}";
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>An issue body with what real ones have (headings, emphasis, a list, a link), so the
    /// issue's rendering and its personal parts take the same paths as a real send.</summary>
    private const string WarmUpBody = """
        ## A small thing to try

        This issue exists only to warm the service up, and goes **nowhere**: no reader gets it.

        - Take one slow breath before you open your inbox.
        - Notice one thing that went *well* today.

        More at [our blog](https://example.org/blog).
        """;
}
