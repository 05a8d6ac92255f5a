using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Records one delivery's outcome: the hot path of a send, one prepared ADO.NET statement per message
/// (rebinding only parameter values), with SQL that names the same columns the EF model maps.
/// </summary>
/// <remarks>
/// <para>Never batched across messages: a sender records each outcome before it hands the server the
/// next message (the checkpoints on <see cref="DeliveryEngine"/>), so a hard crash leaves at most one
/// message per connection unrecorded. <see cref="OutcomeDurability.PowerLoss"/> adds an fsync per commit.</para>
/// <para>On SQLite, which has one writer at a time, a run's senders share one writer
/// (<see cref="OpenSharedAsync"/>) that commits outcomes arriving together in one transaction (each
/// sender still waits for its own), and checkpoints the WAL less often; docs/benchmarks.md has the figures.</para>
/// </remarks>
internal sealed class OutcomeWriter : IAsyncDisposable
{
    private const string FinishSql = """
        UPDATE "Deliveries" SET "Status" = @status, "Attempts" = @attempts, "CompletedAt" = @now,
            "FirstAttemptAt" = COALESCE("FirstAttemptAt", @now), "LeaseOwner" = NULL, "LeaseExpiresAt" = NULL,
            "ReplyCode" = @code, "LastResult" = @result
        WHERE "Id" = @id AND "LeaseOwner" = @lease
        """;

    // Accepted: the reply, the time and the attempt, on the row as it stands (still Claimed, still
    // leased). No indexed column changes, so the statement rewrites the row's page and nothing else;
    // moving the row to Sent also moves its entry in the (PublicationId, Status, NextAttemptAt) index
    // (two more pages in the WAL, and the B-tree work), which more than doubled the cost of the write
    // every message waits for (docs/benchmarks.md). The status follows per batch (SettleAcceptedAsync).
    internal const string AcceptSql = """
        UPDATE "Deliveries" SET "Attempts" = @attempts, "CompletedAt" = @now,
            "FirstAttemptAt" = COALESCE("FirstAttemptAt", @now), "ReplyCode" = @code, "LastResult" = @result
        WHERE "Id" = @id AND "LeaseOwner" = @lease AND "Status" = @status
        """;

    private const string RetrySql = """
        UPDATE "Deliveries" SET "Status" = @status, "Attempts" = @attempts, "NextAttemptAt" = @next,
            "FirstAttemptAt" = COALESCE("FirstAttemptAt", @now), "LeaseOwner" = NULL, "LeaseExpiresAt" = NULL,
            "ReplyCode" = @code, "LastResult" = @result
        WHERE "Id" = @id AND "LeaseOwner" = @lease
        """;

    public const int MaxResultLength = 1000;

    private readonly NewsletterDbContext _db;
    private readonly Prepared _accept;
    private readonly Prepared _finish;
    private readonly Prepared _retry;

    /// <summary>Held while a statement of a shared writer runs (null: one sender's own writer).</summary>
    private readonly object? _turn;

    private OutcomeWriter(NewsletterDbContext db, Prepared accept, Prepared finish, Prepared retry, bool shared)
    {
        _db = db;
        _accept = accept;
        _finish = finish;
        _retry = retry;
        _turn = shared ? new object() : null;
    }

    /// <summary>
    /// On SQLite, one writer for all the senders of a run, on its own connection (of
    /// <paramref name="db"/>, which the caller keeps for the run); elsewhere null, and each sender
    /// opens its own (the server databases take writes in parallel).
    /// </summary>
    public static async Task<OutcomeWriter?> OpenSharedAsync(
        NewsletterDbContext db, OutcomeDurability durability, CancellationToken cancellationToken) =>
        db.Database.IsSqlite() ? await OpenAsync(db, durability, cancellationToken, shared: true) : null;

    /// <summary>Opens <paramref name="db"/>'s connection for the sender's lifetime (EF reuses it for
    /// the sender's other queries) and prepares the commands.</summary>
    public static Task<OutcomeWriter> OpenAsync(
        NewsletterDbContext db, OutcomeDurability durability, CancellationToken cancellationToken) =>
        OpenAsync(db, durability, cancellationToken, shared: false);

    private static async Task<OutcomeWriter> OpenAsync(
        NewsletterDbContext db, OutcomeDurability durability, CancellationToken cancellationToken, bool shared)
    {
        await OpenConnectionAsync(db, durability, cancellationToken);
        var connection = db.Database.GetDbConnection();
        // Npgsql reads DateTime2 as a time without zone and refuses a UTC value for it; its DateTime is timestamptz.
        var time = db.Database.IsNpgsql() ? DbType.DateTime : DbType.DateTime2;
        var accept = new Prepared(connection, AcceptSql, withNext: false, time);
        var finish = new Prepared(connection, FinishSql, withNext: false, time);
        var retry = new Prepared(connection, RetrySql, withNext: true, time);
        await accept.Command.PrepareAsync(cancellationToken);
        await finish.Command.PrepareAsync(cancellationToken);
        await retry.Command.PrepareAsync(cancellationToken);
        return new OutcomeWriter(db, accept, finish, retry, shared);
    }

    /// <summary>
    /// Opens <paramref name="db"/>'s connection for a sender's lifetime, set up for its writes (claims,
    /// and outcomes where it writes its own); it stays open until the context is disposed. On SQLite,
    /// per connection: how durable commits are (see <see cref="OutcomeDurability"/>), SQLite's own
    /// busy handler (short sleeps) before Microsoft.Data.Sqlite's retry loop when another connection
    /// or process holds the write lock, and the late WAL checkpoints (see the remarks on this class).
    /// </summary>
    public static async Task OpenConnectionAsync(NewsletterDbContext db, OutcomeDurability durability, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            await using var pragma = db.Database.GetDbConnection().CreateCommand();
            pragma.CommandText = durability == OutcomeDurability.PowerLoss
                ? "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; PRAGMA wal_autocheckpoint=20000;"
                : "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA wal_autocheckpoint=20000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Records that the server accepted the message: reply, time and attempt on the claimed row, whose
    /// status becomes Sent when the batch is settled (<see cref="SettleAcceptedAsync"/>) or, after a
    /// crash, when its lease has run out (<see cref="SettleAbandonedAsync"/>). Either way the row is
    /// never claimed again: a claimed row with <c>CompletedAt</c> set is a message the server has.
    /// Conditional on still holding the lease, like the others.
    /// </summary>
    public Task<int> AcceptAsync(long id, string lease, int attempts, DateTime now, int? code, string result) =>
        Execute(_accept, id, lease, DeliveryStatus.Claimed, attempts, now, null, code, result);

    /// <summary>Gives the row its final outcome (sent, failed, skipped). Conditional on still holding
    /// the lease: if it expired and another sender took the row, that sender's outcome stands.</summary>
    public Task<int> FinishAsync(
        long id, string lease, DeliveryStatus status, int attempts, DateTime now, int? code, string result) =>
        Execute(_finish, id, lease, status, attempts, now, null, code, result);

    /// <summary>Puts the row back in the pool for another attempt at <paramref name="next"/>.</summary>
    public Task<int> RetryAsync(long id, string lease, int attempts, DateTime now, DateTime next, int? code, string result) =>
        Execute(_retry, id, lease, DeliveryStatus.Pending, attempts, now, next, code, result);

    private Task<int> Execute(
        Prepared command, long id, string lease, DeliveryStatus status, int attempts, DateTime now, DateTime? next, int? code, string result)
    {
        if (_turn is null)
        {
            var rows = command.ExecuteAsync(id, lease, status, attempts, now, next, code, result);
            return Counters is null ? rows : CountAsync(rows, status);
        }
        // Shared (SQLite only): group commit. The outcome joins the queue; whoever holds the turn
        // writes everything queued in one transaction, so senders that finish together share one
        // commit (one WAL append and its locks instead of one each). Every sender still returns only
        // once its own outcome is committed. Microsoft.Data.Sqlite runs statements synchronously,
        // so the turn is an ordinary lock.
        var outcome = new Outcome(command, id, lease, status, attempts, now, next, code, result);
        lock (_queue)
        {
            _queue.Add(outcome);
        }
        lock (_turn)
        {
            if (!outcome.Done)
            {
                List<Outcome> group;
                lock (_queue)
                {
                    group = [.. _queue];
                    _queue.Clear();
                }
                CommitGroup(group);
            }
        }
        if (outcome.Error is { } error)
        {
            return Task.FromException<int>(error);
        }
        Count(outcome.Rows, status);
        return Task.FromResult(outcome.Rows);
    }

    /// <summary>Where the outcomes written are counted (the run's edition); null: not counted.</summary>
    public EditionCounters? Counters { get; set; }

    // Counted once stored, and only when the lease still held: the counts follow the table.
    private async Task<int> CountAsync(Task<int> rows, DeliveryStatus status)
    {
        var n = await rows;
        Count(n, status);
        return n;
    }

    private void Count(int rows, DeliveryStatus status)
    {
        if (rows > 0)
        {
            Counters?.Recorded(status);
        }
    }

    private readonly List<Outcome> _queue = [];

    /// <summary>One sender's outcome waiting for the turn; filled in by whoever commits it.</summary>
    private sealed class Outcome(
        Prepared command, long id, string lease, DeliveryStatus status, int attempts, DateTime now, DateTime? next, int? code, string result)
    {
        public bool Done { get; set; }
        public int Rows { get; set; }
        public Exception? Error { get; set; }

        public int Execute() => command.Execute(id, lease, status, attempts, now, next, code, result);
    }

    /// <summary>Runs under the turn: one statement on its own, or several in one transaction.</summary>
    private void CommitGroup(List<Outcome> group)
    {
        if (group.Count == 1)
        {
            var only = group[0];
            try
            {
                only.Rows = only.Execute();
            }
            catch (Exception ex)
            {
                only.Error = ex;
            }
            only.Done = true;
            return;
        }

        DbTransaction? transaction = null;
        try
        {
            transaction = _finish.Command.Connection!.BeginTransaction();
            _accept.Command.Transaction = transaction;
            _finish.Command.Transaction = transaction;
            _retry.Command.Transaction = transaction;
            foreach (var outcome in group)
            {
                try
                {
                    outcome.Rows = outcome.Execute();
                }
                catch (DbException ex)
                {
                    // This row keeps its lease and is retried when the lease expires; the others commit.
                    outcome.Error = ex;
                    outcome.Rows = 0;
                }
            }
            transaction.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of the group is committed: every sender in it hears so. Not only DbException:
            // when SQLite rolls the whole transaction back itself (SQLITE_FULL, IOERR, NOMEM), the
            // next statement or the commit throws InvalidOperationException, and outcomes that had
            // already run must not be reported as saved.
            foreach (var outcome in group)
            {
                outcome.Error ??= ex;
            }
            try
            {
                transaction?.Rollback();
            }
            catch (Exception rollback) when (rollback is DbException or InvalidOperationException)
            {
                // Already rolled back by SQLite.
            }
        }
        finally
        {
            _accept.Command.Transaction = null;
            _finish.Command.Transaction = null;
            _retry.Command.Transaction = null;
            transaction?.Dispose();
            foreach (var outcome in group)
            {
                outcome.Done = true;
            }
        }
    }

    /// <summary>One prepared statement and its parameters, rebound per message.</summary>
    private sealed class Prepared
    {
        private readonly DbParameter _status, _attempts, _now, _code, _result, _id, _lease;
        private readonly DbParameter? _next;

        public Prepared(DbConnection connection, string sql, bool withNext, DbType time)
        {
            Command = connection.CreateCommand();
            Command.CommandText = sql;
            _status = Add("@status", DbType.Int32);
            _attempts = Add("@attempts", DbType.Int32);
            _now = Add("@now", time);
            _next = withNext ? Add("@next", time) : null;
            _code = Add("@code", DbType.Int32);
            _result = Add("@result", DbType.String, MaxResultLength);
            _id = Add("@id", DbType.Int64);
            _lease = Add("@lease", DbType.String, 100);
        }

        public DbCommand Command { get; }

        private DbParameter Add(string name, DbType type, int size = 0)
        {
            var p = Command.CreateParameter();
            p.ParameterName = name;
            p.DbType = type;
            if (size > 0)
            {
                p.Size = size;
            }
            p.Value = DBNull.Value;
            Command.Parameters.Add(p);
            return p;
        }

        public Task<int> ExecuteAsync(
            long id, string lease, DeliveryStatus status, int attempts, DateTime now, DateTime? next, int? code, string result)
        {
            Bind(id, lease, status, attempts, now, next, code, result);
            // Not cancellable on purpose: once the server has answered, its answer is recorded.
            return Command.ExecuteNonQueryAsync(CancellationToken.None);
        }

        public int Execute(
            long id, string lease, DeliveryStatus status, int attempts, DateTime now, DateTime? next, int? code, string result)
        {
            Bind(id, lease, status, attempts, now, next, code, result);
            return Command.ExecuteNonQuery();
        }

        private void Bind(
            long id, string lease, DeliveryStatus status, int attempts, DateTime now, DateTime? next, int? code, string result)
        {
            _status.Value = (int)status;
            _attempts.Value = attempts;
            _now.Value = now;
            if (_next is not null)
            {
                _next.Value = next ?? now;
            }
            _code.Value = code is { } c ? c : DBNull.Value;
            _result.Value = result.Length <= MaxResultLength ? result : result[..MaxResultLength];
            _id.Value = id;
            _lease.Value = lease;
        }
    }

    /// <summary>
    /// Gives the accepted rows among <paramref name="ids"/> (claimed under <paramref name="lease"/>)
    /// their status, Sent, and ends their claim: one statement per batch, run when the batch ends
    /// however it ends. Not cancellable: the outcomes are already recorded, this only files them.
    /// </summary>
    public static Task<int> SettleAcceptedAsync(NewsletterDbContext db, string lease, List<long> ids) =>
        ids.Count == 0
            ? Task.FromResult(0)
            : db.Deliveries
                .Where(d => EF.Parameter(ids).Contains(d.Id) && d.LeaseOwner == lease
                    && d.Status == DeliveryStatus.Claimed && d.CompletedAt != null)
                .ExecuteUpdateAsync(SetSent, CancellationToken.None);

    /// <summary>
    /// The same for accepted rows whose sender is gone (a crash after the server accepted and the
    /// acceptance was recorded, before the batch was settled): once their lease has run out they are
    /// filed as sent, never handed to a server again. Run before expired claims are taken or settled.
    /// </summary>
    public static Task<int> SettleAbandonedAsync(NewsletterDbContext db, int publicationId, DateTime now, CancellationToken cancellationToken) =>
        db.Deliveries
            .Where(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Claimed
                && d.LeaseExpiresAt < now && d.CompletedAt != null)
            .ExecuteUpdateAsync(SetSent, cancellationToken);

    private static void SetSent(UpdateSettersBuilder<DeliveryRecord> u) => u
        .SetProperty(d => d.Status, DeliveryStatus.Sent)
        .SetProperty(d => d.LeaseOwner, (string?)null)
        .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null);

    public async ValueTask DisposeAsync()
    {
        await _accept.Command.DisposeAsync();
        await _finish.Command.DisposeAsync();
        await _retry.Command.DisposeAsync();
        await _db.Database.CloseConnectionAsync();
    }
}
