using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The outcome writer on real SQLite files: the shared writer's group commit under contention from
/// many sender threads (each caller gets its own row count or its own exception, and its row holds
/// exactly what that caller wrote), and a sender's own writer for comparison.
/// </summary>
public sealed class OutcomeWriterTests
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

    // ---- the world: a migrated database, one publication, leased delivery rows ----

    private enum Kind
    {
        /// <summary>FinishAsync on a row the caller holds.</summary>
        Finish,

        /// <summary>RetryAsync on a row the caller holds.</summary>
        Retry,

        /// <summary>AcceptAsync on a row the caller holds.</summary>
        Accept,

        /// <summary>FinishAsync on a row whose lease someone else holds now.</summary>
        Stolen,

        /// <summary>RetryAsync on a row whose lease someone else holds now.</summary>
        StolenRetry,

        /// <summary>FinishAsync on a row the caller holds, with a result the test's trigger refuses.</summary>
        Poison,
    }

    /// <summary>One call a sender makes, the row it is about as seeded, and the values it binds.</summary>
    private sealed record Planned(
        int Sender, long Id, Kind Kind, Row Seeded, string Lease, DeliveryStatus Status, int Attempts,
        DateTime Now, DateTime? Next, int? Code, string Result);

    /// <summary>The columns an outcome write may touch.</summary>
    private sealed record Row(
        DeliveryStatus Status, int Attempts, DateTime NextAttemptAt, DateTime? FirstAttemptAt, string? LeaseOwner,
        DateTime? LeaseExpiresAt, DateTime? CompletedAt, int? ReplyCode, string? LastResult)
    {
        public static Row Of(DeliveryRecord d) => new(
            d.Status, d.Attempts, d.NextAttemptAt, d.FirstAttemptAt, d.LeaseOwner, d.LeaseExpiresAt, d.CompletedAt, d.ReplyCode, d.LastResult);
    }

    /// <summary>What one call returned: its row count, or the exception it threw.</summary>
    private sealed record Returned(int? RowCount, Exception? Error)
    {
        public static Returned Rows(int count) => new(count, null);
    }

    /// <summary>A test's own SQLite file, migrated (and put in WAL mode) by a host built as the CLI builds it.</summary>
    /// <summary>A test-only trigger that makes SQLite refuse every outcome whose result starts with
    /// "poison", with the given RAISE action and message (e.g. <c>ABORT, 'why'</c>).</summary>
    private static async Task PoisonAsync(TestApp app, string raise)
    {
        var sql = $"""
            CREATE TRIGGER "Poison" BEFORE UPDATE ON "Deliveries"
            WHEN NEW."LastResult" LIKE 'poison%'
            BEGIN SELECT RAISE({raise}); END;
            """;
        await using var db = app.OpenDb();
        await db.Database.ExecuteSqlRawAsync(sql);
    }

    private static async Task<TestApp> CreateDatabaseAsync()
    {
        var app = TestApp.Create();
        try
        {
            await using (await app.StartHostAsync())
            {
            }
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One publication and <paramref name="senders"/> × <paramref name="rowsPerSender"/> claimed
    /// deliveries; row i (0-based, across all senders) is planned as <paramref name="kindOf"/>(i)
    /// and leased to its sender, or to someone else for the stolen kinds. Returns the plan with ids.
    /// </summary>
    private static async Task<List<Planned>> SeedAsync(
        TestApp app, Func<int, Kind> kindOf, int senders = Senders, int rowsPerSender = RowsPerSender)
    {
        await using var db = app.OpenDb();
        var publication = new Publication
        {
            Edition = DeliveryWorld.Edition,
            SlotUtc = T0,
            Kind = PublicationKind.SendNow,
            Status = PublicationStatus.Sending,
            CreatedAt = T0,
            RecipientCount = senders * rowsPerSender,
        };
        db.Publications.Add(publication);
        await db.SaveChangesAsync();

        var rows = new List<(int Sender, Kind Kind, DeliveryRecord Record)>();
        for (var i = 0; i < senders * rowsPerSender; i++)
        {
            var sender = i / rowsPerSender;
            var kind = kindOf(i);
            var record = new DeliveryRecord
            {
                PublicationId = publication.Id,
                SubscriberId = i + 1,
                Status = DeliveryStatus.Claimed,
                Attempts = i % 3,
                NextAttemptAt = T0,
                // Half the rows were attempted before: the first attempt's time must survive.
                FirstAttemptAt = i % 2 == 0 ? null : T0.AddHours(-1),
                LeaseOwner = kind is Kind.Stolen or Kind.StolenRetry ? SomeoneElse : Lease(sender),
                LeaseExpiresAt = T0.AddMinutes(5),
            };
            rows.Add((sender, kind, record));
            db.Deliveries.Add(record);
        }
        await db.SaveChangesAsync();

        return rows.Select((r, i) =>
        {
            var now = T0.AddSeconds(i + 1);
            var retry = r.Kind is Kind.Retry or Kind.StolenRetry;
            var status = retry ? DeliveryStatus.Pending
                : r.Kind == Kind.Accept ? DeliveryStatus.Sent
                : (DeliveryStatus)((int)DeliveryStatus.Sent + i % 3); // Sent, Failed, Skipped
            int? code = retry ? 451 : status switch
            {
                DeliveryStatus.Sent => 250,
                DeliveryStatus.Failed => 550,
                _ => null,
            };
            var result = r.Kind == Kind.Poison ? $"poison for delivery {r.Record.Id}" : $"{code} reply for delivery {r.Record.Id}";
            return new Planned(
                r.Sender, r.Record.Id, r.Kind, Row.Of(r.Record), Lease(r.Sender), status, r.Record.Attempts + 1,
                now, retry ? now.AddMinutes(1 + i % 10) : null, code, result);
        }).ToList();
    }

    private static string Lease(int sender) => $"lease-of-sender-{sender}";

    private static Task<int> CallAsync(OutcomeWriter writer, Planned p) => p.Next is { } next
        ? writer.RetryAsync(p.Id, p.Lease, p.Attempts, p.Now, next, p.Code, p.Result)
        : p.Kind == Kind.Accept
            ? writer.AcceptAsync(p.Id, p.Lease, p.Attempts, p.Now, p.Code, p.Result)
            : writer.FinishAsync(p.Id, p.Lease, p.Status, p.Attempts, p.Now, p.Code, p.Result);

    /// <summary>
    /// Opens one shared writer and has each sender of the plan, on a dedicated thread, make its
    /// calls in order, blocking on each as the engine's senders do; the threads start together.
    /// Right after each call returns, the sender reads its row on a connection of its own: an
    /// outcome reported as written (1) must already be committed, one not written (0 or an
    /// exception) must not be. Returns what each call returned, by row id.
    /// </summary>
    /// <remarks>The writer runs with <see cref="OutcomeDurability.PowerLoss"/>: a commit then waits
    /// for an fsync and holds the turn long enough for the other senders to queue behind it, so most
    /// outcomes are committed in groups. (With <c>synchronous=NORMAL</c> a commit is so quick that
    /// on a 2-core machine only a few percent were.)</remarks>
    private static async Task<IReadOnlyDictionary<long, Returned>> RunSharedAsync(TestApp app, List<Planned> plan)
    {
        var results = new ConcurrentDictionary<long, Returned>();
        var crashed = new ConcurrentQueue<Exception>();
        var misheard = new ConcurrentQueue<string>();
        await using var db = app.OpenDb();
        await using (var writer = await OutcomeWriter.OpenSharedAsync(db, OutcomeDurability.PowerLoss, CancellationToken.None))
        {
            Assert.NotNull(writer);
            var bySender = plan.GroupBy(p => p.Sender).Select(g => g.ToList()).ToList();
            using var start = new Barrier(bySender.Count);
            var threads = bySender.Select(calls => new Thread(() =>
            {
                try
                {
                    using var reader = new SqliteConnection(app.ConnectionString);
                    reader.Open();
                    using var read = reader.CreateCommand();
                    read.CommandText = """SELECT "LastResult" FROM "Deliveries" WHERE "Id" = $id""";
                    var id = read.Parameters.Add("$id", SqliteType.Integer);
                    start.SignalAndWait();
                    foreach (var p in calls)
                    {
                        Returned returned;
                        try
                        {
                            returned = Returned.Rows(CallAsync(writer, p).GetAwaiter().GetResult());
                        }
                        catch (Exception ex)
                        {
                            returned = new Returned(null, ex);
                        }
                        id.Value = p.Id;
                        var seen = read.ExecuteScalar() as string;
                        if ((returned.RowCount == 1) != (seen == p.Result))
                        {
                            misheard.Enqueue($"delivery {p.Id} ({p.Kind}) returned {returned}, then read back {seen ?? "null"}");
                        }
                        Assert.True(results.TryAdd(p.Id, returned));
                    }
                }
                catch (Exception ex)
                {
                    crashed.Enqueue(ex);
                }
            })
            {
                IsBackground = true,
                Name = $"outcome test sender {calls[0].Sender}",
            }).ToList();

            threads.ForEach(t => t.Start());
            // A generous bound, not a timing assertion: it only turns a hang (a caller never woken) into a failure.
            Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), $"{t.Name} never returned"));
        }
        Assert.Empty(crashed);
        Assert.True(misheard.IsEmpty,
            $"{misheard.Count} callers heard an outcome that was not what the database held; the first few:\n{string.Join('\n', misheard.Take(5))}");
        Assert.Equal(plan.Count, results.Count);
        return results;
    }

    /// <summary>Every row holds what its plan says: its caller's values when the call stood, the seeded ones otherwise.</summary>
    private static async Task AssertRowsAsync(TestApp app, List<Planned> plan)
    {
        await using var db = app.OpenDb();
        var stored = await db.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id, Row.Of);
        var wrong = plan
            .Select(p => (p, Expected: Expected(p), Actual: stored[p.Id]))
            .Where(x => x.Expected != x.Actual)
            .Select(x => $"delivery {x.p.Id} ({x.p.Kind}):\n  expected {x.Expected}\n  actual   {x.Actual}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {plan.Count} rows are wrong; the first few:\n{string.Join('\n', wrong.Take(5))}");
    }

    private static Row Expected(Planned p) => p.Kind switch
    {
        Kind.Finish => p.Seeded with
        {
            Status = p.Status,
            Attempts = p.Attempts,
            CompletedAt = p.Now,
            FirstAttemptAt = p.Seeded.FirstAttemptAt ?? p.Now,
            LeaseOwner = null,
            LeaseExpiresAt = null,
            ReplyCode = p.Code,
            LastResult = p.Result,
        },
        // Accepted: the reply on the row, which stays claimed (and leased) until its batch is settled.
        Kind.Accept => p.Seeded with
        {
            Attempts = p.Attempts,
            CompletedAt = p.Now,
            FirstAttemptAt = p.Seeded.FirstAttemptAt ?? p.Now,
            ReplyCode = p.Code,
            LastResult = p.Result,
        },
        Kind.Retry => p.Seeded with
        {
            Status = DeliveryStatus.Pending,
            Attempts = p.Attempts,
            NextAttemptAt = p.Next!.Value,
            FirstAttemptAt = p.Seeded.FirstAttemptAt ?? p.Now,
            LeaseOwner = null,
            LeaseExpiresAt = null,
            ReplyCode = p.Code,
            LastResult = p.Result,
        },
        // Someone else's lease, or a statement that failed: the row is as it was, lease and all.
        _ => p.Seeded,
    };
}
