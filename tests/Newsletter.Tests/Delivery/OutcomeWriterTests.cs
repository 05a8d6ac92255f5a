using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The outcome writer on real SQLite files: the shared writer's group commit under contention from
/// many sender threads (each caller gets its own row count or its own exception, and its row holds
/// exactly what that caller wrote), and a sender's own writer for comparison.
/// </summary>
public sealed partial class OutcomeWriterTests
{
    private const int Senders = 8;
    private const int RowsPerSender = 200;
    private const string SomeoneElse = "someone-else";

    private static readonly DateTime T0 = new(2026, 1, 5, 12, 0, 0, DateTimeKind.Utc);

    // Guards the core promise of group commit: with many senders finishing at once through one
    // writer, every caller returns only its own row count (1), and every row ends up with the
    // values its own caller bound — not a neighbour's from the same group, none lost when a group
    // is drained by another thread.
    [Fact]
    public async Task Concurrent_finishes_through_the_shared_writer_each_return_one_and_store_exactly_what_their_caller_wrote()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, _ => Kind.Finish);

        var results = await RunSharedAsync(app, plan);

        Assert.All(plan, p => Assert.Equal(Returned.Rows(1), results[p.Id]));
        await AssertRowsAsync(app, plan);
    }

    // Guards the per-caller row count inside a group: a row whose lease another sender now holds
    // must report 0 to its own caller (so the caller knows its outcome did not stand) and be left
    // exactly as the other owner has it, while the rows committed in the same groups report 1.
    [Fact]
    public async Task Concurrent_finishes_on_rows_leased_by_someone_else_return_zero_and_leave_those_rows_untouched_while_the_rest_commit()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => i % 5 == 2 ? Kind.Stolen : Kind.Finish);

        var results = await RunSharedAsync(app, plan);

        Assert.All(plan, p => Assert.Equal(Returned.Rows(p.Kind == Kind.Stolen ? 0 : 1), results[p.Id]));
        await AssertRowsAsync(app, plan);
    }

    // Guards that the two prepared statements share a group correctly: a retry queued beside
    // finishes goes through the retry statement with its own NextAttemptAt, back to Pending, and the
    // finishes around it are not turned into retries (or the other way round).
    [Fact]
    public async Task Concurrent_retries_through_the_shared_writer_put_their_rows_back_to_pending_beside_finishes_on_other_rows()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => (i % 7) switch
        {
            0 or 3 => Kind.Retry,
            4 => Kind.Accept,
            5 => Kind.StolenRetry,
            6 => Kind.Stolen,
            _ => Kind.Finish,
        });

        var results = await RunSharedAsync(app, plan);

        Assert.All(plan, p => Assert.Equal(Returned.Rows(p.Kind is Kind.Stolen or Kind.StolenRetry ? 0 : 1), results[p.Id]));
        await AssertRowsAsync(app, plan);
    }

    // Guards the per-caller exception inside a group: a statement that fails (here a trigger aborts
    // it) must fail only its own caller, with the database's error, and leave its row leased for a
    // later retry, while the outcomes committed in the same transaction stand and report 1.
    [Fact]
    public async Task A_statement_that_fails_under_the_shared_writer_fails_only_its_own_caller_and_the_others_commit()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => i % 11 == 4 ? Kind.Poison : i % 3 == 0 ? Kind.Retry : Kind.Finish);
        // RAISE(ABORT) undoes the one statement and leaves the surrounding transaction open.
        await PoisonAsync(app, "ABORT, 'poisoned outcome'");

        var results = await RunSharedAsync(app, plan);

        Assert.All(plan, p =>
        {
            if (p.Kind == Kind.Poison)
            {
                var error = Assert.IsType<SqliteException>(results[p.Id].Error);
                Assert.Contains("poisoned outcome", error.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(Returned.Rows(1), results[p.Id]);
            }
        });
        await AssertRowsAsync(app, plan);
    }

    // Guards the same promise when SQLite itself rolls the group's transaction back (RAISE(ROLLBACK)
    // here; SQLITE_FULL, SQLITE_IOERR or SQLITE_NOMEM can do it too): no caller may hear 1 for an
    // outcome that was rolled back, nor 0 ("another sender has the row") for a row still leased to
    // it. Hearing an exception is fine: the row keeps its lease and is retried when the lease expires.
    [Fact]
    public async Task A_group_whose_transaction_sqlite_rolls_back_reports_no_outcome_as_committed_that_was_not()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => i % 50 == 17 ? Kind.Poison : Kind.Finish);
        await PoisonAsync(app, "ROLLBACK, 'poisoned group'");

        // The run itself checks that every outcome reported as 1 was committed when its caller heard so.
        var results = await RunSharedAsync(app, plan);

        await using var check = app.OpenDb();
        var stored = await check.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id, Row.Of);
        Assert.All(plan, p =>
        {
            var returned = results[p.Id];
            var row = stored[p.Id];
            if (p.Kind == Kind.Poison || returned.Error is not null)
            {
                Assert.NotNull(returned.Error);
                Assert.Equal(p.Seeded, row);
            }
            else
            {
                Assert.Equal(Returned.Rows(1), returned);
                Assert.Equal(Expected(p), row);
            }
        });
    }

    // Sanity: a sender's own writer (no turn, no group) gives the same results as the shared one
    // for single rows — finish, retry, and 0 with the row untouched when the lease was lost — and
    // with power-loss durability (synchronous=FULL) as well.
    [Theory]
    [InlineData(OutcomeDurability.ProcessCrash)]
    [InlineData(OutcomeDurability.PowerLoss)]
    public async Task A_writer_of_its_own_finishes_retries_and_reports_a_lost_lease_just_as_the_shared_one_does(OutcomeDurability durability)
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => (i % 4) switch
        {
            0 => Kind.Finish,
            1 => Kind.Retry,
            2 => Kind.Stolen,
            _ => Kind.StolenRetry,
        }, senders: 1, rowsPerSender: 4);

        await using (var db = app.OpenDb())
        await using (var writer = await OutcomeWriter.OpenAsync(db, durability, CancellationToken.None))
        {
            foreach (var p in plan)
            {
                Assert.Equal(p.Kind is Kind.Stolen or Kind.StolenRetry ? 0 : 1, await CallAsync(writer, p));
            }
        }

        await AssertRowsAsync(app, plan);
    }

    // Guards the second half of an accepted outcome (the first, AcceptAsync, leaves the row claimed):
    // settling a batch files exactly its accepted rows as sent and ends their claim, leaving the rows
    // it never attempted and another lease's rows alone; an accepted row whose sender died before
    // settling is filed as sent by whoever looks after its lease has run out, and not before.
    [Fact]
    public async Task Settling_files_a_batchs_accepted_rows_as_sent_and_an_abandoned_one_only_once_its_lease_has_run_out()
    {
        await using var app = await CreateDatabaseAsync();
        var plan = await SeedAsync(app, i => i % 4 == 1 ? Kind.Stolen : Kind.Accept, senders: 1, rowsPerSender: 16);
        var ours = plan.Where(p => p.Kind == Kind.Accept).ToList(); // 12 rows under the sender's lease
        var settled = ours.Take(5).ToList();
        var abandoned = ours.Skip(5).Take(3).ToList();
        var untried = ours.Skip(8).ToList();
        await using var db = app.OpenDb();
        var publicationId = await db.Publications.Select(p => p.Id).SingleAsync();
        await using (var writer = await OutcomeWriter.OpenAsync(db, OutcomeDurability.ProcessCrash, CancellationToken.None))
        {
            foreach (var p in settled.Concat(abandoned))
            {
                Assert.Equal(1, await CallAsync(writer, p));
            }
        }

        // The batch of the first five (and its untried rows) is settled; the abandoned three are in no batch.
        Assert.Equal(5, await OutcomeWriter.SettleAcceptedAsync(db, Lease(0), [.. settled.Concat(untried).Select(p => p.Id)]));
        // Their lease (seeded to T0 + 5 min) has not run out yet: they stay claimed.
        Assert.Equal(0, await OutcomeWriter.SettleAbandonedAsync(db, publicationId, T0.AddMinutes(4), CancellationToken.None));
        Assert.Equal(3, await OutcomeWriter.SettleAbandonedAsync(db, publicationId, T0.AddMinutes(6), CancellationToken.None));

        var stored = await db.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id, Row.Of);
        Assert.All(settled.Concat(abandoned), p => Assert.Equal(
            Expected(p) with { Status = DeliveryStatus.Sent, LeaseOwner = null, LeaseExpiresAt = null }, stored[p.Id]));
        Assert.All(untried.Concat(plan.Where(p => p.Kind == Kind.Stolen)), p => Assert.Equal(p.Seeded, stored[p.Id]));
    }

    // Guards what makes the accepted write cheap: it changes no column of any index on the
    // deliveries, so SQLite rewrites the row's page and no index page (moving the row to Sent in
    // the (PublicationId, Status, NextAttemptAt) index is left to the per-batch settle).
    [Fact]
    public async Task The_write_every_accepted_message_waits_for_changes_no_indexed_column()
    {
        await using var app = await CreateDatabaseAsync();
        await using var connection = new SqliteConnection(app.ConnectionString);
        await connection.OpenAsync();
        var indexed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var indexes = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM pragma_index_list('Deliveries')";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                indexes.Add(reader.GetString(0));
            }
        }
        foreach (var index in indexes)
        {
            await using var info = connection.CreateCommand();
            info.CommandText = "SELECT name FROM pragma_index_info($index)";
            info.Parameters.AddWithValue("$index", index);
            await using var reader = await info.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                indexed.Add(reader.GetString(0));
            }
        }
        Assert.Contains("Status", indexed); // the check below is about something

        var sql = OutcomeWriter.AcceptSql;
        var set = sql[(sql.IndexOf(" SET ", StringComparison.Ordinal) + 5)..sql.IndexOf("WHERE", StringComparison.Ordinal)];
        var written = System.Text.RegularExpressions.Regex.Matches(set, "\"(\\w+)\" =").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("CompletedAt", written);
        Assert.Empty(written.Intersect(indexed));
    }
}
