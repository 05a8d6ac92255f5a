using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>The outcome writer tests' world: a migrated database, one publication, leased delivery rows, and a plan of concurrent calls with the row each should leave.</summary>
public sealed partial class OutcomeWriterTests
{
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
