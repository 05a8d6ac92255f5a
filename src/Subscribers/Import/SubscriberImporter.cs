using System.Globalization;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Import;

/// <summary>One row that was not imported, and why, by its line in the file (the header is line 1).</summary>
public sealed record ImportProblem(long Line, string Reason)
{
    public override string ToString() => $"line {Line}: {Reason}";
}

public sealed record ImportReport
{
    /// <summary>Set when the file as a whole could not be read; nothing was imported then.</summary>
    public string? FileError { get; init; }

    public int Rows { get; init; }

    public int ImportedConfirmed { get; init; }

    public int ImportedPending { get; init; }

    /// <summary>Rows whose address is already on the list: skipped, so re-running a file changes nothing.</summary>
    public int AlreadyOnList { get; init; }

    /// <summary>Rows refused, with line numbers and reasons.</summary>
    public IReadOnlyList<ImportProblem> Problems { get; init; } = [];

    public bool DryRun { get; init; }

    public int Imported => ImportedConfirmed + ImportedPending;
}

/// <summary>
/// Imports subscribers from CSV (columns <c>email,name,editions,consented_at,source</c>; a header
/// row is required, columns in any order). Every row is validated first; the valid ones are then
/// inserted with prepared statements inside one transaction, so an import either lands whole or not at all.
/// A row imports as confirmed only with consent evidence (<c>consented_at</c>); without it the
/// reader is pending and receives nothing until they confirm. Addresses already on the list are
/// skipped, which makes re-running a file harmless.
/// </summary>
public sealed class SubscriberImporter(DbContext db, IKnownEditions editions, TimeProvider time, AddressHasher hasher)
{
    internal static readonly string[] KnownColumns = ["email", "name", "editions", "consented_at", "source"];

    /// <summary>Columns the export writes that an import accepts and ignores, so an export re-imports.</summary>
    internal static readonly string[] IgnoredColumns = ["status", "created_at", "confirmed_at"];

    /// <summary>Every row is held in memory while it is checked: about 1 million rows, a list far larger than this one's
    /// readers. A bigger file is split into several, each with the header row.</summary>
    public const long MaxFileBytes = 50 * 1024 * 1024;

    public async Task<ImportReport> ImportAsync(Stream csv, bool dryRun, CancellationToken cancellationToken = default)
    {
        // Callers pass a file or a buffered upload, both of known length; the file is refused before it is read.
        if (csv.CanSeek && csv.Length - csv.Position > MaxFileBytes)
        {
            return new ImportReport
            {
                FileError = string.Create(CultureInfo.InvariantCulture,
                    $"the file is {(csv.Length - csv.Position) / (1024.0 * 1024):0.0} MB; an import takes at most {MaxFileBytes / (1024 * 1024)} MB. Split it into smaller files, each with the header row."),
                DryRun = dryRun,
            };
        }
        List<Row> rows;
        try
        {
            rows = await ReadAsync(csv, cancellationToken);
        }
        catch (ImportFileException ex)
        {
            return new ImportReport { FileError = ex.Message, DryRun = dryRun };
        }

        var now = time.GetUtcNow().UtcDateTime;
        var existing = new HashSet<string>(
            await db.Set<Subscriber>().AsNoTracking().Select(s => s.NormalizedEmail).ToListAsync(cancellationToken), StringComparer.Ordinal);
        var suppressed = new HashSet<string>(
            await db.Set<Suppression>().AsNoTracking().Select(s => s.EmailHash).ToListAsync(cancellationToken), StringComparer.Ordinal);

        var problems = new List<ImportProblem>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        var valid = new List<(Row Row, string Normalized, List<string> Editions, DateTime? ConsentedAt)>();
        var alreadyOnList = 0;
        foreach (var row in rows)
        {
            if (Validate(row, now, out var normalized, out var chosen, out var consentedAt) is { } reason)
            {
                problems.Add(new ImportProblem(row.Line, reason));
                continue;
            }
            if (seen.TryGetValue(normalized, out var firstLine))
            {
                problems.Add(new ImportProblem(row.Line, $"{normalized} is already on line {firstLine} of this file"));
                continue;
            }
            seen[normalized] = row.Line;
            if (suppressed.Contains(hasher.Hash(normalized)))
            {
                problems.Add(new ImportProblem(row.Line, $"{normalized} is on the suppression list and is never added again"));
                continue;
            }
            if (existing.Contains(normalized))
            {
                alreadyOnList++;
                continue;
            }
            valid.Add((row, normalized, chosen, consentedAt));
        }

        if (!dryRun && valid.Count > 0)
        {
            await InsertAsync(valid, now, cancellationToken);
        }
        return new ImportReport
        {
            Rows = rows.Count,
            ImportedConfirmed = valid.Count(v => v.ConsentedAt is not null),
            ImportedPending = valid.Count(v => v.ConsentedAt is null),
            AlreadyOnList = alreadyOnList,
            Problems = problems,
            DryRun = dryRun,
        };
    }

    private async Task InsertAsync(
        List<(Row Row, string Normalized, List<string> Editions, DateTime? ConsentedAt)> valid, DateTime now, CancellationToken cancellationToken)
    {
        // Checkpoint: one transaction for the whole import. A failure (say, the same address
        // signing up on the web at this moment) leaves the list as it was; re-running is safe.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await using var subscribers = BulkInserter<Subscriber>.Create(db, returningId: true,
                nameof(Subscriber.Email), nameof(Subscriber.NormalizedEmail), nameof(Subscriber.EmailHash), nameof(Subscriber.Name),
                nameof(Subscriber.Status), nameof(Subscriber.CreatedAt), nameof(Subscriber.ConfirmedAt), nameof(Subscriber.LinkKey),
                nameof(Subscriber.LegacyLinks));
            await using var subscriptions = BulkInserter<Subscription>.Create(db, returningId: false,
                nameof(Subscription.SubscriberId), nameof(Subscription.Edition), nameof(Subscription.Status), nameof(Subscription.SubscribedAt));
            await using var consents = BulkInserter<ConsentRecord>.Create(db, returningId: false,
                nameof(ConsentRecord.SubscriberId), nameof(ConsentRecord.ConsentedAt), nameof(ConsentRecord.Source), nameof(ConsentRecord.Editions));

            foreach (var (row, normalized, chosen, consentedAt) in valid)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var confirmed = consentedAt is not null;
                var id = Convert.ToInt32(subscribers.InsertReturning(
                    row.Email!.Trim(), normalized, hasher.Hash(normalized), SignupInput.CleanName(row.Name),
                    (int)(confirmed ? SubscriberStatus.Confirmed : SubscriberStatus.Pending), now, consentedAt,
                    // A fresh link key, and no links naming row ids: links from the database this list came from open nothing here.
                    Subscriber.NewLinkKey(), false), System.Globalization.CultureInfo.InvariantCulture);
                foreach (var key in chosen)
                {
                    subscriptions.Insert(
                        id, key, (int)(confirmed ? SubscriptionStatus.Active : SubscriptionStatus.Pending), consentedAt ?? now);
                }
                if (consentedAt is { } at)
                {
                    var source = string.IsNullOrWhiteSpace(row.Source) ? "import" : $"import: {row.Source.Trim()}";
                    consents.Insert(
                        id, at, SignupInput.Clip(source, SubscriberModel.MaxSourceLength), string.Join(',', chosen));
                }
            }
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private string? Validate(Row row, DateTime now, out string normalized, out List<string> chosen, out DateTime? consentedAt)
    {
        chosen = [];
        consentedAt = null;
        normalized = "";
        if (row.FieldCountError is { } fieldCount)
        {
            return fieldCount;
        }
        if (!EmailAddress.TryValidate(row.Email, out normalized, out var error))
        {
            return error;
        }
        var name = UnescapeFormula(row.Name);
        if (!SubscriberList.TryValidateName(name, out error))
        {
            return error;
        }
        row.Name = name;
        var keys = (row.Editions ?? "").Split([';', '|', ',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (keys.Length == 0)
        {
            return "no editions given (write edition keys separated by ';', or 'all')";
        }
        foreach (var key in keys)
        {
            if (string.Equals(key, "all", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var k in editions.Keys)
                {
                    if (!chosen.Contains(k))
                    {
                        chosen.Add(k);
                    }
                }
            }
            else if (!editions.Keys.Contains(key, StringComparer.Ordinal))
            {
                return $"unknown edition '{Shorten(key)}' (known editions: {string.Join(", ", editions.Keys)})";
            }
            else if (!chosen.Contains(key))
            {
                chosen.Add(key);
            }
        }
        if (!string.IsNullOrWhiteSpace(row.ConsentedAt))
        {
            if (!DateTimeOffset.TryParse(row.ConsentedAt.Trim(), CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return $"consented_at '{Shorten(row.ConsentedAt)}' is not a date (use ISO 8601, e.g. 2025-03-14 or 2025-03-14T09:30:00Z)";
            }
            if (at.UtcDateTime > now.AddDays(1))
            {
                return $"consented_at {at.UtcDateTime:yyyy-MM-dd} is in the future";
            }
            consentedAt = DateTime.SpecifyKind(at.UtcDateTime, DateTimeKind.Utc);
        }
        if (row.Source is { } source && (source.Any(char.IsControl) || source.Trim().Length > SubscriberModel.MaxSourceLength - "import: ".Length))
        {
            return $"source must be one line of at most {SubscriberModel.MaxSourceLength - "import: ".Length} characters";
        }
        return null;
    }

    /// <summary>The export protects names that a spreadsheet would run as formulas with a leading
    /// apostrophe; reading them back takes it off.</summary>
    private static string? UnescapeFormula(string? name) =>
        name is { Length: > 1 } && name[0] == '\'' && "=+-@\t\r".Contains(name[1], StringComparison.Ordinal) ? name[1..] : name;

    private static string Shorten(string value)
    {
        var line = new string(value.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return line.Length <= 40 ? line : line[..40] + "…";
    }

    private static async Task<List<Row>> ReadAsync(Stream csv, CancellationToken cancellationToken)
    {
        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            TrackLineNumbers = true,
            IncludeValuesInExceptions = false,
            // A record this large is not a subscriber; it is a quote that never closes.
            MaxRecordSize = 64 * 1024,
        };
        var rows = new List<Row>();
        try
        {
            await using var reader = CsvReader.Create(csv, options);
            await reader.ReadHeaderAsync(cancellationToken);
            var headers = reader.Headers.Select(h => h.Trim().ToLowerInvariant()).ToList();
            var unknown = headers.Where(h => !KnownColumns.Contains(h) && !IgnoredColumns.Contains(h)).ToList();
            if (unknown.Count > 0)
            {
                throw new ImportFileException(
                    $"line 1: unknown column '{Shorten(unknown[0])}' (the columns are {string.Join(", ", KnownColumns)})");
            }
            var duplicate = headers.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw new ImportFileException($"line 1: the column '{duplicate.Key}' appears twice");
            }
            var email = headers.IndexOf("email");
            if (email < 0)
            {
                throw new ImportFileException($"line 1: the header has no 'email' column (the columns are {string.Join(", ", KnownColumns)})");
            }
            int name = headers.IndexOf("name"), editionsColumn = headers.IndexOf("editions"),
                consented = headers.IndexOf("consented_at"), source = headers.IndexOf("source");
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.FieldCount > headers.Count)
                {
                    rows.Add(new Row { Line = reader.LineNumber, FieldCountError = $"{reader.FieldCount} fields, but the header has {headers.Count}" });
                    continue;
                }
                rows.Add(new Row
                {
                    Line = reader.LineNumber,
                    Email = Field(reader, email),
                    Name = Field(reader, name),
                    Editions = Field(reader, editionsColumn),
                    ConsentedAt = Field(reader, consented),
                    Source = Field(reader, source),
                });
            }
        }
        catch (CsvFormatException ex)
        {
            var where = ex.LineNumber > 0 ? $"line {ex.LineNumber}" : ex.RecordNumber > 0 ? $"record {ex.RecordNumber}" : "the file";
            throw new ImportFileException($"{where}: the CSV is malformed ({ex.Message}); nothing was imported. Check for a quote that is not closed.");
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new ImportFileException("the file is not UTF-8 text; nothing was imported");
        }
        return rows;
    }

    private static string? Field(CsvReader reader, int index) =>
        index < 0 || index >= reader.FieldCount ? null : reader.GetString(index);

    private sealed class Row
    {
        public long Line { get; init; }

        public string? Email { get; init; }

        public string? Name { get; set; }

        public string? Editions { get; init; }

        public string? ConsentedAt { get; init; }

        public string? Source { get; init; }

        public string? FieldCountError { get; init; }
    }

    private sealed class ImportFileException(string message) : Exception(message);
}
