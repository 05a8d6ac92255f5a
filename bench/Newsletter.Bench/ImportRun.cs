using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Worker;
using Newsletter.Worker.Cli;

namespace Newsletter.Bench;

/// <summary>
/// The import benchmark: <c>scripts/bench import --rows 10000,100000</c>. For each row count it
/// writes a CSV in the import's format, and in child processes of its own (one per measurement, so
/// each peak RSS is that run's):
/// <list type="number">
/// <item><b>first import</b>: the real <c>newsletter subscribers import FILE.csv</c> command
/// (<see cref="NewsletterCli.RunAsync"/>, in-process in the child, with the same host, configuration
/// validation and database check as the executable) into a fresh, app-migrated, empty SQLite database;</item>
/// <item><b>re-run</b>: the same command and file again on that database (must import nothing);</item>
/// <item><b>dry run</b>: <c>--dry-run</c> on another fresh database;</item>
/// <item><b>empty file</b>: the command on a header-only file: what the command costs around the import;</item>
/// <item><b>baseline</b>: the same rows written to the same schema by a plain ADO.NET loop (one
/// transaction, prepared INSERTs for Subscribers, Subscriptions and ConsentRecords as the importer
/// writes them, values computed before the clock starts): this machine's floor for that write.</item>
/// </list>
/// Times are wall-clock around the command inside the child (host build to the summary line), so
/// they leave out only the runtime's own start (~0.1 s); the import step alone is the figure the
/// command prints.
/// </summary>
internal static class ImportRun
{
    private static readonly string[] EditionKeys = ["weekly-fact", "weekly-tip", "monthly-spotlight"];

    /// <summary>What one child measured, handed to the orchestrator as one JSON line.</summary>
    internal sealed record StepResult(
        string Step, int ExitCode, double Seconds, double? PrintedSeconds, string Summary, int Rows, int Imported, int Confirmed,
        int Pending, int AlreadyOnList, int Refused, double PeakRssMb);

    internal sealed record TableCounts(long Subscribers, long Subscriptions, long ConsentRecords, long MaxSubscriberId)
    {
        public override string ToString() =>
            $"{Subscribers:N0} subscribers, {Subscriptions:N0} subscriptions, {ConsentRecords:N0} consent records";
    }

    private sealed record SizeResult(
        int Rows, long CsvBytes, CsvStats Stats, StepResult First, StepResult Rerun, StepResult DryRun, StepResult Empty,
        StepResult Baseline, TableCounts AfterFirst, TableCounts AfterRerun, TableCounts AfterBaseline);

    // ---------------------------------------------------------------- orchestrator

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var work = Path.Combine(o.Work, "import");
        Directory.CreateDirectory(work);
        var machine = Machine.Describe();
        Console.WriteLine($"Machine: {machine}");
        var started = TimeProvider.System.GetUtcNow();
        var results = new List<SizeResult>();
        var problems = new List<string>();
        foreach (var rows in o.Rows)
        {
            Console.WriteLine($"\n== {rows:N0} rows");
            var csv = Path.Combine(work, $"subscribers-{rows}.csv");
            var stats = CsvGenerator.Write(csv, rows);
            var csvBytes = new FileInfo(csv).Length;
            Console.WriteLine($"   wrote {csv}: {csvBytes / 1048576.0:0.0} MB; {stats}");
            var empty = Path.Combine(work, "header-only.csv");
            await File.WriteAllTextAsync(empty, CsvGenerator.Header + "\n");

            var firstDb = await FreshDatabaseAsync(work, $"first-{rows}");
            var first = await StepAsync("first import", firstDb, csv, dryRun: false);
            var afterFirst = Count(firstDb);
            Console.WriteLine($"   database after the first import: {afterFirst}");
            var rerun = await StepAsync("re-run", firstDb, csv, dryRun: false);
            var afterRerun = Count(firstDb);
            Console.WriteLine($"   database after the re-run: {afterRerun}");
            var dryRun = await StepAsync("dry run", await FreshDatabaseAsync(work, $"dry-{rows}"), csv, dryRun: true);
            var emptyRun = await StepAsync("header-only file", await FreshDatabaseAsync(work, $"empty-{rows}"), empty, dryRun: false);

            var baselineDb = await FreshDatabaseAsync(work, $"baseline-{rows}");
            var baseline = await RunChildAsync(["import-baseline", "--size", $"{rows}", "--db", baselineDb]);
            var afterBaseline = Count(baselineDb);
            Console.WriteLine($"   database after the baseline: {afterBaseline}");

            // What the run must show, or its figures mean nothing.
            void Expect(bool ok, string what)
            {
                if (!ok)
                {
                    problems.Add($"{rows:N0} rows: {what}");
                    Console.WriteLine($"   !! {what}");
                }
            }
            var expected = new TableCounts(rows, stats.Subscriptions, stats.ConsentRecords, rows);
            Expect(first.Imported == rows && first.Confirmed == stats.Confirmed && first.Refused == 0,
                $"the first import reported {first.Summary}");
            Expect(afterFirst == expected, $"after the first import the database holds {afterFirst}, expected {expected}");
            Expect(rerun.Imported == 0 && rerun.AlreadyOnList == rows && rerun.Refused == 0, $"the re-run reported {rerun.Summary}");
            Expect(afterRerun == afterFirst, $"the re-run changed the database: {afterFirst} → {afterRerun}");
            Expect(dryRun.Imported == rows && dryRun.Refused == 0, $"the dry run reported {dryRun.Summary}");
            Expect(afterBaseline == expected, $"the baseline wrote {afterBaseline}, expected {expected}");
            results.Add(new SizeResult(rows, csvBytes, stats, first, rerun, dryRun, emptyRun, baseline, afterFirst, afterRerun, afterBaseline));
        }

        await Output.ReportAsync(Report(machine, started, results), o.Markdown);
        foreach (var p in problems)
        {
            await Console.Error.WriteLineAsync($"import benchmark: {p}");
        }
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<StepResult> StepAsync(string step, string db, string csv, bool dryRun)
    {
        Console.WriteLine($"-- {step}");
        List<string> args = ["import-run", "--step", step, "--db", db, "--csv", csv];
        if (dryRun)
        {
            args.AddRange(["--dry-run", "true"]);
        }
        return await RunChildAsync(args);
    }

    private static async Task<StepResult> RunChildAsync(IEnumerable<string> args)
    {
        var clock = Stopwatch.StartNew();
        var outcome = await Child.RunAsync(args);
        var result = JsonSerializer.Deserialize<StepResult>(outcome.Last["RESULT ".Length..])!;
        Console.WriteLine($"   {result.Step}: {result.Seconds:0.00} s ({clock.Elapsed.TotalSeconds:0.00} s from process start to exit), peak RSS {result.PeakRssMb:0} MB");
        return result;
    }

    /// <summary>A new SQLite file, migrated by the app as the seed mode and the service do it.</summary>
    private static async Task<string> FreshDatabaseAsync(string work, string name)
    {
        var db = Path.Combine(work, name + ".db");
        foreach (var f in new[] { db, db + "-wal", db + "-shm" })
        {
            File.Delete(f);
        }
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "newsletter",
        });
        builder.Configuration.AddInMemoryCollection(Configuration(db, work));
        builder.Logging.ClearProviders();
        builder.AddNewsletterCore();
        using (var host = builder.Build())
        {
            await host.Services.PrepareNewsletterAsync(warmUpTemplates: false);
        }
        SqliteConnection.ClearAllPools();
        return db;
    }

    internal static Dictionary<string, string?> Configuration(string db, string work) => new()
    {
        ["ConnectionStrings:Newsletter"] = $"Data Source={db}",
        ["Database:Provider"] = "Sqlite",
        ["Delivery:Transport"] = "Pickup",
        ["Delivery:PickupDirectory"] = Path.Combine(work, "pickup"),
        ["Newsletter:PublicBaseUrl"] = "https://news.example.org",
        ["Newsletter:TokenSecret"] = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 31 + 7)).ToArray()),
    };

    private static TableCounts Count(string db)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
        }
        return new TableCounts(
            Scalar("""SELECT count(*) FROM "Subscribers" """),
            Scalar("""SELECT count(*) FROM "Subscriptions" """),
            Scalar("""SELECT count(*) FROM "ConsentRecords" """),
            Scalar("""SELECT coalesce(max("Id"), 0) FROM "Subscribers" """));
    }

    // ---------------------------------------------------------------- child: the real command

    private static readonly Regex SummaryLine = new(
        @"^(?<rows>\d+) row\(s\): (?:would import|imported) (?<imported>\d+) \((?<confirmed>\d+) confirmed, (?<pending>\d+) pending without consent evidence\), " +
        @"(?<already>\d+) already on the list, (?<refused>\d+) refused.* in (?<seconds>[0-9.]+) s\.$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);

    /// <summary>Child mode "import-run": <c>newsletter subscribers import CSV [--dry-run]</c>, as the executable runs it.</summary>
    public static async Task<int> CommandChildAsync(BenchOptions o)
    {
        var work = Path.GetDirectoryName(Path.GetFullPath(o.Db))!;
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        string[] args = o.DryRun ? ["subscribers", "import", o.Csv, "--dry-run"] : ["subscribers", "import", o.Csv];
        var clock = Stopwatch.StartNew();
        var exitCode = await NewsletterCli.RunAsync(args, b => b.Configuration.AddInMemoryCollection(Configuration(o.Db, work)), output, error);
        var seconds = clock.Elapsed.TotalSeconds;
        var peak = Child.ReadSelfKb("VmHWM") / 1024.0;

        Console.WriteLine($"$ newsletter {string.Join(' ', args)}   → exit code {exitCode}");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }
        var errors = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var line in errors.Take(10))
        {
            Console.WriteLine($"stderr: {line}");
        }
        if (errors.Length > 10)
        {
            Console.WriteLine($"stderr: … {errors.Length - 10} more line(s)");
        }

        var summary = lines.LastOrDefault() ?? "";
        var m = SummaryLine.Match(summary);
        int Group(string name) => m.Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : -1;
        var result = new StepResult(o.Step, exitCode, seconds,
            m.Success ? double.Parse(m.Groups["seconds"].Value, CultureInfo.InvariantCulture) : null,
            summary, Group("rows"), Group("imported"), Group("confirmed"), Group("pending"), Group("already"), Group("refused"), peak);
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return exitCode;
    }

    // ---------------------------------------------------------------- child: the baseline

    /// <summary>
    /// Child mode "import-baseline": the rows of the same file (regenerated, not parsed), inserted
    /// into the migrated schema by plain ADO.NET: one connection, one transaction, three prepared
    /// INSERTs executed synchronously, the Subscribers one returning the new id, the same columns
    /// and value types the importer binds. Addresses are normalised and hashed and dates parsed
    /// before the clock starts, so this is the write alone.
    /// </summary>
    public static Task<int> BaselineChildAsync(BenchOptions o)
    {
        // Any key: the write's cost does not depend on it, and nothing here is matched against suppressions.
        var hasher = new AddressHasher(new byte[32]);
        var now = DateTime.SpecifyKind(new DateTime(2026, 11, 26, 12, 0, 0), DateTimeKind.Utc);
        var rows = CsvGenerator.Rows(o.Size).Select(r =>
        {
            var normalized = EmailAddress.Normalize(r.Email);
            var chosen = r.Editions == "all" ? EditionKeys : r.Editions.Split(';');
            DateTime? consentedAt = r.ConsentedAt is null
                ? null
                : DateTimeOffset.Parse(r.ConsentedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal).UtcDateTime;
            return (Email: r.Email.Trim(), Normalized: normalized, Hash: hasher.Hash(normalized), LinkKey: Subscriber.NewLinkKey(), Name: r.Name is { Length: > 0 } n ? n.Trim() : null,
                Chosen: chosen, ConsentedAt: consentedAt, Source: r.Source is { Length: > 0 } s ? $"import: {s}" : "import", EditionList: string.Join(',', chosen));
        }).ToList();

        var clock = Stopwatch.StartNew();
        using (var connection = new SqliteConnection($"Data Source={o.Db}"))
        {
            connection.Open();
            using var transaction = connection.BeginTransaction();
            using var subscriber = Command(connection, transaction, """
                INSERT INTO "Subscribers" ("Email", "NormalizedEmail", "EmailHash", "Name", "Status", "CreatedAt", "ConfirmedAt", "LinkKey")
                VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7) RETURNING "Id"
                """, 8);
            using var subscription = Command(connection, transaction, """
                INSERT INTO "Subscriptions" ("SubscriberId", "Edition", "Status", "SubscribedAt") VALUES (@p0, @p1, @p2, @p3)
                """, 4);
            using var consent = Command(connection, transaction, """
                INSERT INTO "ConsentRecords" ("SubscriberId", "ConsentedAt", "Source", "Editions") VALUES (@p0, @p1, @p2, @p3)
                """, 4);
            foreach (var r in rows)
            {
                var confirmed = r.ConsentedAt is not null;
                Bind(subscriber, r.Email, r.Normalized, r.Hash, r.Name,
                    (int)(confirmed ? SubscriberStatus.Confirmed : SubscriberStatus.Pending), now, r.ConsentedAt, r.LinkKey);
                var id = Convert.ToInt32(subscriber.ExecuteScalar(), CultureInfo.InvariantCulture);
                foreach (var key in r.Chosen)
                {
                    Bind(subscription, id, key, (int)(confirmed ? SubscriptionStatus.Active : SubscriptionStatus.Pending), r.ConsentedAt ?? now);
                    subscription.ExecuteNonQuery();
                }
                if (r.ConsentedAt is { } at)
                {
                    Bind(consent, id, at, r.Source, r.EditionList);
                    consent.ExecuteNonQuery();
                }
            }
            transaction.Commit();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var result = new StepResult("baseline", 0, seconds, null, $"{rows.Count} rows inserted by plain ADO.NET", rows.Count, rows.Count,
            rows.Count(r => r.ConsentedAt is not null), rows.Count(r => r.ConsentedAt is null), 0, 0, Child.ReadSelfKb("VmHWM") / 1024.0);
        Console.WriteLine($"baseline: {rows.Count:N0} rows in {seconds:0.00} s = {rows.Count / seconds:0} rows/s");
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return Task.FromResult(0);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = $"@p{i}" });
        }
        command.Prepare();
        return command;
    }

    private static void Bind(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    // ---------------------------------------------------------------- report

    private static string Report(string machine, DateTimeOffset started, List<SizeResult> results)
    {
        var b = new StringBuilder();
        b.AppendLine("| rows | first import | rows/s | re-run | dry run | baseline (plain ADO.NET) | ratio | peak RSS (first import) |");
        b.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Rows:N0} | {r.First.Seconds:0.00} s (import step {r.First.PrintedSeconds:0.0} s) | {r.Rows / r.First.Seconds:N0} | {r.Rerun.Seconds:0.00} s | {r.DryRun.Seconds:0.00} s | " +
                $"{r.Baseline.Seconds:0.00} s | {r.First.Seconds / r.Baseline.Seconds:0.0} | {r.First.PeakRssMb:0} MB |");
        }
        b.AppendLine();
        b.AppendLine("| rows | CSV | import step as the command prints it (first / re-run / dry run) | command on a header-only file | peak RSS (re-run / dry run / baseline) |");
        b.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Rows:N0} | {r.CsvBytes / 1048576.0:0.0} MB | {r.First.PrintedSeconds:0.0} / {r.Rerun.PrintedSeconds:0.0} / {r.DryRun.PrintedSeconds:0.0} s | " +
                $"{r.Empty.Seconds:0.00} s | {r.Rerun.PeakRssMb:0} / {r.DryRun.PeakRssMb:0} / {r.Baseline.PeakRssMb:0} MB |");
        }
        b.AppendLine();
        b.AppendLine("What the command printed, and what the database held afterwards:");
        b.AppendLine();
        foreach (var r in results)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- {r.Rows:N0} rows ({r.Stats}):");
            b.AppendLine(CultureInfo.InvariantCulture, $"  - first import: `{r.First.Summary}` → {r.AfterFirst}");
            b.AppendLine(CultureInfo.InvariantCulture, $"  - re-run: `{r.Rerun.Summary}` → {r.AfterRerun}{(r.AfterRerun == r.AfterFirst ? " (unchanged)" : " (CHANGED)")}");
            b.AppendLine(CultureInfo.InvariantCulture, $"  - dry run: `{r.DryRun.Summary}`");
            b.AppendLine(CultureInfo.InvariantCulture, $"  - baseline: {r.AfterBaseline}");
        }
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Run on {started:yyyy-MM-dd HH:mm} UTC. Machine: {machine}.");
        b.AppendLine();
        b.AppendLine("Each run is a child process of its own. *first import*, *re-run* and *dry run* run the real " +
                     "`newsletter subscribers import FILE.csv [--dry-run]` command in-process in that child (`NewsletterCli.RunAsync`: " +
                     "host, option validation, database check, `SubscriberImporter`, summary line), on a fresh SQLite database migrated " +
                     "by the app (the re-run on the first import's database); the time is wall-clock around the command, so it includes " +
                     "building the host but not the .NET runtime's start. *baseline* writes the same rows to the same schema with plain " +
                     "ADO.NET (one transaction; prepared INSERTs into Subscribers … RETURNING Id, Subscriptions, ConsentRecords; values " +
                     "computed before the clock). *import step* is the figure the command prints (`SubscriberImporter.ImportAsync` alone: read, " +
                     "validate, insert, commit). *ratio* is first import (whole command) ÷ baseline. Peak RSS is the child's `VmHWM`; children run " +
                     "with `MALLOC_ARENA_MAX=2`.");
        return b.ToString();
    }
}

/// <summary>Counts of what a generated file should produce.</summary>
internal sealed record CsvStats(int Rows, int Confirmed, int Pending, long Subscriptions, long ConsentRecords, int NonAsciiNames, int QuotedNames)
{
    public override string ToString() =>
        $"{Confirmed:N0} with consent dates, {Pending:N0} without; {Subscriptions:N0} subscriptions; {NonAsciiNames:N0} non-ASCII names, {QuotedNames:N0} needing CSV quotes";
}

/// <summary>
/// A deterministic, realistic import file: the header <c>email,name,editions,consented_at,source</c>;
/// names from many languages (about half non-ASCII), some with commas or quotes, some empty;
/// addresses mixed-case now and then, a few with an internationalised domain or local part;
/// editions as <c>a;b</c> lists or <c>all</c>; nine rows in ten with a consent date (date only or
/// ISO 8601 with a time), the rest without; a source on about half.
/// </summary>
internal static class CsvGenerator
{
    public const string Header = "email,name,editions,consented_at,source";

    public sealed record Row(string Email, string? Name, string Editions, string? ConsentedAt, string? Source);

    private static readonly (string Name, string Slug)[] Given =
    [
        ("Ada", "ada"), ("José", "jose"), ("Zoë", "zoe"), ("Søren", "soren"), ("Łukasz", "lukasz"), ("Siobhán", "siobhan"),
        ("François", "francois"), ("Chloé", "chloe"), ("Mária", "maria"), ("Jürgen", "juergen"), ("Ayşe", "ayse"), ("Dũng", "dung"),
        ("Мария", "maria"), ("Άννα", "anna"), ("李娜", "lina"), ("さくら", "sakura"), ("민준", "minjun"), ("محمد", "mohammed"),
        ("Priya", "priya"), ("Kwame", "kwame"), ("Sam", "sam"), ("Olivia", "olivia"), ("Liam", "liam"), ("Noah", "noah"),
        ("Emma", "emma"), ("Mateo", "mateo"), ("Aroha", "aroha"), ("Nnamdi", "nnamdi"), ("Ingrid", "ingrid"), ("Tomás", "tomas"),
    ];

    private static readonly (string Name, string Slug)[] Family =
    [
        ("Lovelace", "lovelace"), ("García", "garcia"), ("Müller", "mueller"), ("Ørsted", "orsted"), ("Nowak", "nowak"),
        ("O'Brien", "obrien"), ("Nguyễn", "nguyen"), ("Petrova", "petrova"), ("Papadopoulou", "papadopoulou"), ("Wang", "wang"),
        ("Yılmaz", "yilmaz"), ("Smith", "smith"), ("Mensah", "mensah"), ("Sharma", "sharma"), ("da Silva", "dasilva"),
        ("Kowalczyk", "kowalczyk"), ("Johansson", "johansson"), ("Dubois", "dubois"), ("Rossi", "rossi"), ("Tanaka", "tanaka"),
    ];

    private static readonly string[] Domains =
        ["example.org", "example.com", "mail.example.net", "example.co.uk", "posteo.example", "uni-example.edu", "example.de"];

    private static readonly (string Editions, int Weight)[] EditionChoices =
    [
        ("all", 30), ("weekly-fact;weekly-tip", 25), ("weekly-tip", 20), ("weekly-fact", 10), ("weekly-tip;monthly-spotlight", 10),
        ("monthly-spotlight", 5),
    ];

    private static readonly string[] Sources =
        ["blog form", "old mailing list", "webinar 2025-05", "conference booth", "shop checkout", "podcast, episode 12", "Wix export"];

    public static IEnumerable<Row> Rows(int count)
    {
        var random = new Random(20261126);
        var totalWeight = EditionChoices.Sum(e => e.Weight);
        var firstConsent = new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 1; i <= count; i++)
        {
            var given = Given[random.Next(Given.Length)];
            var family = Family[random.Next(Family.Length)];
            var shape = random.Next(100);
            string? name = shape switch
            {
                < 12 => null,
                < 50 => given.Name,
                < 95 => $"{given.Name} {family.Name}",
                < 98 => $"{family.Name}, {given.Name}",
                _ => $"{given.Name} \"{given.Slug}\" {family.Name}",
            };
            var local = random.Next(4) switch
            {
                0 => $"{given.Slug}.{family.Slug}{i}",
                1 => $"{given.Slug}{i}",
                2 => $"{given.Slug[0]}{family.Slug}+news{i}",
                _ => $"{family.Slug}.{i}",
            };
            var domain = Domains[random.Next(Domains.Length)];
            var special = random.Next(1000);
            var email = special switch
            {
                < 5 => $"{local}@bücher.example",
                < 10 => $"{given.Name.ToLowerInvariant()}{i}@example.org",
                < 60 => $"{char.ToUpperInvariant(local[0])}{local[1..]}@{domain.ToUpperInvariant()}",
                _ => $"{local}@{domain}",
            };
            if (!EmailAddress.TryValidate(email, out _, out _))
            {
                email = $"{given.Slug}{i}@{domain}";
            }
            var pick = random.Next(totalWeight);
            var editions = EditionChoices.First(e => (pick -= e.Weight) < 0).Editions;
            string? consentedAt = null;
            if (random.Next(10) != 0)
            {
                var at = firstConsent.AddMinutes(random.Next(5 * 365 * 24 * 60));
                consentedAt = random.Next(3) == 0
                    ? at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            }
            var source = random.Next(2) == 0 ? Sources[random.Next(Sources.Length)] : null;
            yield return new Row(email, name, editions, consentedAt, source);
        }
    }

    public static CsvStats Write(string path, int count)
    {
        int confirmed = 0, nonAscii = 0, quoted = 0;
        long subscriptions = 0;
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        writer.Write(Header + "\n");
        foreach (var r in Rows(count))
        {
            confirmed += r.ConsentedAt is null ? 0 : 1;
            subscriptions += r.Editions == "all" ? 3 : r.Editions.Split(';').Length;
            nonAscii += r.Name?.Any(c => c > 127) == true ? 1 : 0;
            quoted += r.Name is { } n && NeedsQuotes(n) ? 1 : 0;
            writer.Write(Field(r.Email));
            writer.Write(',');
            writer.Write(Field(r.Name));
            writer.Write(',');
            writer.Write(Field(r.Editions));
            writer.Write(',');
            writer.Write(Field(r.ConsentedAt));
            writer.Write(',');
            writer.Write(Field(r.Source));
            writer.Write('\n');
        }
        return new CsvStats(count, confirmed, count - confirmed, subscriptions, confirmed, nonAscii, quoted);
    }

    private static bool NeedsQuotes(string value) => value.AsSpan().IndexOfAny(",\"\r\n") >= 0;

    private static string Field(string? value) =>
        value is null ? "" : NeedsQuotes(value) ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
