using System.Data.Common;
using System.Globalization;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The database fills up in the middle of a send, in the running service: the send pauses with one
/// log line, readiness says why, and when space returns the send finishes by itself with every reader
/// mailed once and every outcome saved. The full disk is SQLite's own limit on the file's size
/// (<c>max_page_count</c>), set on every connection the service opens: a write that needs the file to
/// grow fails with SQLITE_FULL ("database or disk is full"), as on a full disk.
/// </summary>
public sealed class FullDiskTests
{
    private const int Readers = 400;

    /// <summary>Pages the file may grow by once the send starts: a part of what the whole send needs.</summary>
    private const int Headroom = 3;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    // Guards issue 18's promise for a full disk: never a lost outcome, never a stack trace per
    // message, readiness that reports it, and a send that resumes by itself. Before, the first
    // refused outcome ended the senders with exceptions (each logged with its stack trace by the
    // service, again on every retry), readiness stayed healthy (its database check only reads), and
    // each retry sent messages whose outcomes could not be saved, to be sent again after their lease.
    [Fact]
    public async Task A_database_that_fills_mid_send_pauses_it_with_one_line_and_not_ready_then_finishes_it_once_space_returns_with_every_reader_mailed_once()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port);
        DeliveryWorld.Defaults(app);
        app.Set("Delivery:LeaseDuration", "00:00:03");
        var publicationId = await PublishAsync(app);
        var disk = new SmallDisk(await PageCountAsync(app) + Headroom, await DefaultMaxPageCountAsync(app));
        var logs = new LogCapture();
        await using var web = app.CreateWebApp(s =>
        {
            s.AddSingleton<ILoggerProvider>(logs);
            s.ConfigureNewsletterDb(o => o.AddInterceptors(disk));
        });
        using var client = web.CreateClient(); // starts the service; its delivery picks the publication up

        await Poll.UntilAsync(() => logs.Contains(LogLevel.Error, "cannot save delivery outcomes"), "the send paused on the full database", Wait);
        // The service tries again while the disk is full; the send does not end, and nothing more is said.
        var runs = disk.Runs;
        await Poll.UntilAsync(() => disk.Runs >= runs + 2, "the service tried the send twice more", Wait);
        Assert.InRange(smtp.Messages.Count, 1, Readers - 1); // mid-send: some went out, not all
        using (var ready = await client.GetAsync("/readyz"))
        {
            var body = await ready.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database-writes: Unhealthy (the delivery cannot save outcomes since ", body, StringComparison.Ordinal);
            Assert.Contains("database or disk is full", body, StringComparison.Ordinal);
            Assert.Contains("database: Healthy", body, StringComparison.Ordinal); // reads still work: the old check saw nothing
        }
        Assert.Equal(PublicationStatus.Sending, (await PublicationAsync(app, publicationId)).Status);

        disk.Free();

        await Poll.UntilAsync(async () => (await PublicationAsync(app, publicationId)).Status == PublicationStatus.Completed,
            "the send finished once space returned", Wait);
        // Ready again once writes have gone through for a while (DeliveryWrites.RecoveryWindow).
        await Poll.UntilAsync(async () =>
        {
            using var ready = await client.GetAsync("/readyz");
            return ready.StatusCode == HttpStatusCode.OK
                && (await ready.Content.ReadAsStringAsync()).Contains("database-writes: Healthy", StringComparison.Ordinal);
        }, "the service was ready again", Wait);
        // Every reader once: an outcome refused while full (if the disk filled on one rather than on a
        // claim) was kept and saved, not sent again after its lease; the next test makes it certain.
        var received = smtp.Messages.SelectMany(m => m.RcptTo).GroupBy(r => r, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(Enumerable.Range(1, Readers).Select(DeliveryWorld.Email).Order(StringComparer.Ordinal),
            received.Keys.Order(StringComparer.Ordinal));
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} was mailed {r.Value} times"));
        // Every outcome saved, none lost: each row sent, with the server's reply, and no claim left.
        await using (var db = app.OpenDb())
        {
            var rows = await db.Deliveries.AsNoTracking().Where(d => d.PublicationId == publicationId).ToListAsync();
            Assert.Equal(Readers, rows.Count);
            Assert.All(rows, d =>
            {
                Assert.Equal(DeliveryStatus.Sent, d.Status);
                Assert.Equal(250, d.ReplyCode);
                Assert.NotNull(d.CompletedAt);
                Assert.Null(d.LeaseOwner);
                Assert.Equal(1, d.Attempts);
            });
        }
        // What the operator read: one line for the outage, none with a stack trace, and its end.
        // (Not counted: the health-check service's own report of each /readyz answer, and a start-up
        // note about the tests' public address.)
        var warnings = logs.Lines.Where(l => l.Level >= LogLevel.Warning
            && l.Category is not ("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService" or "Newsletter.Worker.Http.PublicUrlCheck")).ToList();
        var line = Assert.Single(warnings);
        Assert.Contains("database or disk is full", line.Message, StringComparison.Ordinal);
        Assert.Empty(logs.WithException);
        Assert.True(logs.Contains(LogLevel.Information, "takes delivery outcomes again"), "the end of the outage was not said");
    }

    // Guards the outcome of a message the server accepted while the database refused to record it:
    // it is kept, nothing more is sent while the database still refuses, and the next run writes it
    // first. Nobody is mailed again, even with a lease that runs out in between. Here a trigger
    // refuses every outcome from the moment a chosen reader's message is on its way, with a full
    // disk's words: unlike a full file, it refuses that reader's outcome for certain.
    [Fact]
    public async Task An_accepted_message_whose_outcome_the_database_refused_is_recorded_when_the_send_resumes_and_never_sent_again()
    {
        const int readers = 30;
        var chosen = DeliveryWorld.Email(12);
        string? connectionString = null;
        var script = SmtpScript.ForRecipients((address, _) =>
        {
            if (string.Equals(address, chosen, StringComparison.OrdinalIgnoreCase))
            {
                Execute(connectionString!, "INSERT INTO \"RefuseOutcomes\" VALUES (1)");
            }
            return SmtpReplyDecision.Accept;
        });
        await using var world = await DeliveryWorld.StartAsync(script, app => app
            .Set("Delivery:Connections", "2")
            .Set("Delivery:LeaseDuration", "00:00:01"));
        connectionString = world.App.ConnectionString;
        AddOutcomeRefusal(connectionString);
        await world.AddSubscribersAsync(readers);
        var publicationId = await world.PublishAsync();

        var paused = await world.RunAsync(publicationId).WaitAsync(Wait);

        Assert.InRange(paused.Done, 0, readers - 1);
        Assert.Equal(1, world.ReceivedCounts()[chosen]);
        var unrecorded = (await world.DeliveriesAsync(publicationId)).Single(d => d.SubscriberId == 12);
        Assert.Null(unrecorded.CompletedAt); // the server has it; the database does not
        Assert.Equal(DeliveryStatus.Claimed, unrecorded.Status);
        // A second run while the database still refuses sends nothing: the kept outcome comes first.
        var sentBefore = world.Smtp.Messages.Count;
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the claims' one-second leases run out
        await world.RunAsync(publicationId).WaitAsync(Wait);
        Assert.Equal(sentBefore, world.Smtp.Messages.Count);

        Execute(connectionString, "DELETE FROM \"RefuseOutcomes\"");
        var final = await world.RunAsync(publicationId).WaitAsync(Wait);

        Assert.Equal(readers, final.Sent);
        Assert.Equal(readers, world.ReceivedCounts().Count);
        Assert.All(world.ReceivedCounts(), r => Assert.True(r.Value == 1, $"{r.Key} was mailed {r.Value} times"));
        var recorded = (await world.DeliveriesAsync(publicationId)).Single(d => d.SubscriberId == 12);
        Assert.Equal(DeliveryStatus.Sent, recorded.Status);
        Assert.Equal(1, recorded.Attempts);
        Assert.True(world.Logs.Contains(LogLevel.Information, "outcome(s) kept while the database refused them"), "no kept outcome was saved");
        Assert.Single(world.Logs.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_send_from_the_command_line_that_the_database_refuses_exits_1_saying_how_to_carry_on_and_carrying_on_finishes_it()
    {
        const int readers = 12;
        await using var world = await DeliveryWorld.StartAsync(SmtpScript.AcceptAll, app => app
            .Set("Delivery:Connections", "2")
            .Set("Delivery:LeaseDuration", "00:00:01"));
        var connectionString = world.App.ConnectionString;
        AddOutcomeRefusal(connectionString);
        Execute(connectionString, "INSERT INTO \"RefuseOutcomes\" VALUES (1)");
        await world.AddSubscribersAsync(readers);
        var publicationId = await world.PublishAsync();
        var id = publicationId.ToString(CultureInfo.InvariantCulture);

        var refused = await world.App.RunCliAsync("publications", "send", id);

        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains($"publication {id} stopped because the database refused to save outcomes (", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"carry on with 'newsletter publications send {id}'", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Out + refused.Error, StringComparison.Ordinal);
        Assert.InRange(world.Smtp.Messages.Count, 1, readers - 1);

        Execute(connectionString, "DELETE FROM \"RefuseOutcomes\"");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the claims' one-second leases run out
        var carriedOn = await world.App.RunCliAsync("publications", "send", id);

        Assert.True(carriedOn.ExitCode == 0, carriedOn.ToString());
        Assert.Equal(readers, world.ReceivedCounts().Count);
        // The outcomes kept in memory ended with the first process: those readers are mailed again,
        // within the bound of one per connection.
        Assert.InRange(world.ReceivedCounts().Values.Sum() - readers, 0, 2);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Sent, d.Status));
    }

    /// <summary>Outcomes refused with a full disk's words while "RefuseOutcomes" has a row: the part of a full
    /// disk a test must hit for certain (a file-size limit may land on a claim instead).</summary>
    private static void AddOutcomeRefusal(string connectionString) => Execute(connectionString, """
        CREATE TABLE "RefuseOutcomes" ("On" INTEGER);
        CREATE TRIGGER "RefuseOutcome" BEFORE UPDATE OF "CompletedAt" ON "Deliveries"
        WHEN NEW."CompletedAt" IS NOT NULL AND EXISTS (SELECT 1 FROM "RefuseOutcomes")
        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
        """);

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Readers 1…<see cref="Readers"/> and an issue published to them, by a host without the
    /// delivery service (as the CLI's <c>issues publish</c> would): the send starts with the service.</summary>
    private static async Task<int> PublishAsync(TestApp app)
    {
        await app.CreateDatabaseAsync();
        await DeliveryWorld.AddSubscribersAsync(app, Readers);
        var issueId = await DeliveryWorld.QueueAsync(app);
        await using var host = await app.StartHostAsync();
        await using var scope = host.CreateScope();
        var published = await scope.ServiceProvider.GetRequiredService<Publisher>().PublishNowAsync(issueId);
        return published.Publication!.Id;
    }

    private static async Task<Publication> PublicationAsync(TestApp app, int id)
    {
        await using var db = app.OpenDb();
        return await db.Publications.AsNoTracking().FirstAsync(p => p.Id == id);
    }

    private static Task<long> PageCountAsync(TestApp app) => PragmaAsync(app, "PRAGMA page_count");

    private static Task<long> DefaultMaxPageCountAsync(TestApp app) => PragmaAsync(app, "PRAGMA max_page_count");

    private static async Task<long> PragmaAsync(TestApp app, string sql)
    {
        await using var connection = new SqliteConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// A small disk under the service's database: every connection it opens may grow the file to
    /// <paramref name="pages"/> pages, until <see cref="Free"/> (a pooled connection is opened again,
    /// so each open sets its limit). Also counts the delivery's runs (each reads its issue).
    /// </summary>
    private sealed class SmallDisk(long pages, long unlimited) : IDbConnectionInterceptor, IDbCommandInterceptor
    {
        private long _limit = pages;
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void Free() => Interlocked.Exchange(ref _limit, unlimited);

        public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Limit(connection);

        public Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Limit(connection);
            return Task.CompletedTask;
        }

        private void Limit(DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA max_page_count = {Interlocked.Read(ref _limit)}";
            command.ExecuteNonQuery();
        }

        public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("FROM \"Issues\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _runs);
            }
            return ValueTask.FromResult(result);
        }
    }
}
