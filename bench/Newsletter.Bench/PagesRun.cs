using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Worker;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;

namespace Newsletter.Bench;

/// <summary>
/// The workspace page-speed benchmark (scripts/bench pages): a database as a newsletter has it after
/// two years (N confirmed readers on all three editions, every past slot published to all of them,
/// each publication with a delivery row per recipient, a few issues queued, one editor), then the
/// service's Release build started on it as an operator starts it, signed in to over HTTP, and each
/// workspace page requested: warm-up requests, then timed ones, round-robin with <c>GET /healthz</c>
/// as the baseline for the fixed cost of a request.
/// </summary>
internal static class PagesRun
{
    private static readonly string[] EditionKeys = [EditionsOptions.WeeklyFact, EditionsOptions.WeeklyTip, EditionsOptions.MonthlySpotlight];
    private const string EditorEmail = "editor@example.org";
    private const int WarmUp = 5;

    /// <summary>What the seed child built, handed to the orchestrator as one JSON line.</summary>
    internal sealed record SeedResult(
        int Subscribers, long Subscriptions, int Publications, int Sent, long Deliveries, int Issues, int Queued,
        int LatestPublicationId, string Password, double Seconds, double DatabaseGb);

    private sealed record Timing(string Page, List<double> Ms, long Bytes, string? Label = null)
    {
        public string Name => Label ?? Page;
    }

    // ---------------------------------------------------------------- orchestrator

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var work = Path.Combine(o.Work, "pages");
        Directory.CreateDirectory(work);
        var machine = Machine.Describe();
        Console.WriteLine($"Machine: {machine}");
        var db = Path.Combine(work, $"pages-{o.Size}.db");
        var built = db + ".json";
        SeedResult seed;
        if (o.Reuse && File.Exists(built) && File.Exists(db))
        {
            seed = JsonSerializer.Deserialize<SeedResult>(await File.ReadAllTextAsync(built))!;
            Console.WriteLine($"reusing {db} (built in {seed.Seconds:0} s)");
        }
        else
        {
            foreach (var f in new[] { db, db + "-wal", db + "-shm", built })
            {
                File.Delete(f);
            }
            Console.WriteLine($"\n== building a database of {o.Size:N0} readers and two years of publications");
            var outcome = await Child.RunAsync(["pages-seed", "--size", $"{o.Size}", "--db", db, "--work", work]);
            seed = JsonSerializer.Deserialize<SeedResult>(outcome.Last["RESULT ".Length..])!;
            await File.WriteAllTextAsync(built, JsonSerializer.Serialize(seed));
        }

        var started = TimeProvider.System.GetUtcNow();
        var timings = await MeasureAsync(o, work, db, seed);
        await Output.ReportAsync(Report(o, machine, started, seed, timings), o.Markdown);
        return 0;
    }

    // ---------------------------------------------------------------- the service and the requests

    private static async Task<List<Timing>> MeasureAsync(BenchOptions o, string work, string db, SeedResult seed)
    {
        var app = Path.GetFullPath(Path.Combine(o.App, "newsletter.dll"));
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add(app);
        start.Environment["Urls"] = $"http://127.0.0.1:{o.Port}";
        start.Environment["ConnectionStrings__Newsletter"] = $"Data Source={db}";
        // Nothing publishes or sends while the pages are timed: the history is the seed's.
        start.Environment["Scheduling__Enabled"] = "false";
        start.Environment["Delivery__Transport"] = "Pickup";
        start.Environment["Delivery__PickupDirectory"] = Path.Combine(work, "pickup");
        start.Environment["Newsletter__PublicBaseUrl"] = $"http://127.0.0.1:{o.Port}";
        // As the README advises for the service (and as the other benchmarks run their children).
        start.Environment["MALLOC_ARENA_MAX"] = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "2";
        start.Environment["DOTNET_GCgen0size"] = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "0x1000000";

        // The first pass is without SQLite's statistics, even on a file an earlier run analysed (--reuse).
        await using (var connection = new SqliteConnection($"Data Source={db}"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE IF EXISTS sqlite_stat1";
            await drop.ExecuteNonQueryAsync();
        }
        using var service = Process.Start(start)!;
        var log = new StringBuilder();
        _ = Task.Run(async () =>
        {
            while (await service.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        });
        _ = Task.Run(async () =>
        {
            while (await service.StandardError.ReadLineAsync() is { } line)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        });
        try
        {
            // The editor's browser: cookies kept by hand, because the sign-in cookie is marked Secure
            // (as in production) and the client would not send it back over plain HTTP on loopback.
            using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{o.Port}"),
                Timeout = TimeSpan.FromMinutes(1),
            };
            await WaitForHealthAsync(http, service, log);
            var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
            await SignInAsync(http, cookies, seed.Password);

            var pages = new List<string>
            {
                "/healthz", "/admin/plan", "/admin/queue", $"/admin/publications/{seed.LatestPublicationId}",
                $"/admin/api/publications/{seed.LatestPublicationId}", "/admin/issues", "/admin/readers",
                // Readers' searches: a few matches, none, and filters that match everyone (the count's worst case) or no one.
                "/admin/readers?q=reader4242", "/admin/readers?q=nobody-by-this-name",
                "/admin/readers?edition=weekly-tip&state=confirmed", "/admin/readers?state=unsubscribed",
            };
            var timings = new List<Timing>();
            foreach (var page in pages)
            {
                var (status, body) = await GetAsync(http, cookies, page);
                if (status == HttpStatusCode.NotFound)
                {
                    Console.WriteLine($"   {page}: 404, not on this build; skipped");
                    continue;
                }
                if (status != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"{page} answered {(int)status}");
                }
                Check(page, body, seed);
                timings.Add(new Timing(page, [], body.Length));
            }
            await MeasureAsync(timings);
            // The same readers' pages once SQLite's statistics exist, as the running service's first
            // Database:StatisticsInterval run leaves them (the service here runs no scheduled work).
            await using (var statisticsDb = new SqliteNewsletterDbContext(new DbContextOptionsBuilder<SqliteNewsletterDbContext>().UseSqlite($"Data Source={db}").Options))
            {
                var clock = Stopwatch.StartNew();
                await DatabaseStatistics.RefreshAsync(statisticsDb, CancellationToken.None);
                Console.WriteLine($"   statistics gathered in {clock.Elapsed.TotalMilliseconds:0} ms");
            }
            var withStatistics = timings.Where(t => t.Page.StartsWith("/admin/readers", StringComparison.Ordinal))
                .Select(t => new Timing(t.Page, [], t.Bytes, $"{t.Page} (with statistics)")).ToList();
            await MeasureAsync(withStatistics);
            timings.AddRange(withStatistics);
            foreach (var t in timings)
            {
                Console.WriteLine($"   {t.Name}: median {Median(t.Ms):0.0} ms, p95 {P95(t.Ms):0.0} ms, {t.Bytes:N0} B");
            }
            return timings;

            async Task MeasureAsync(List<Timing> measured)
            {
                // Warm-up: the first requests compile each page's queries and views.
                for (var i = 0; i < WarmUp; i++)
                {
                    foreach (var t in measured)
                    {
                        await GetAsync(http, cookies, t.Page);
                    }
                }
                // Round-robin, so every page sees the same minutes of a shared machine.
                for (var run = 1; run <= o.Runs; run++)
                {
                    foreach (var t in measured)
                    {
                        var clock = Stopwatch.StartNew();
                        var (status, _) = await GetAsync(http, cookies, t.Page);
                        t.Ms.Add(clock.Elapsed.TotalMilliseconds);
                        if (status != HttpStatusCode.OK)
                        {
                            throw new InvalidOperationException($"{t.Page} answered {(int)status} on run {run}");
                        }
                    }
                }
            }
        }
        catch
        {
            lock (log)
            {
                Console.WriteLine(log.ToString());
            }
            throw;
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }
    }

    private static async Task WaitForHealthAsync(HttpClient http, Process service, StringBuilder log)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    Console.WriteLine($"   service answered /healthz {clock.Elapsed.TotalSeconds:0.0} s after its start");
                    return;
                }
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException)
            {
                // Not listening yet.
            }
            if (service.HasExited)
            {
                throw new InvalidOperationException($"the service exited {service.ExitCode} before answering:\n{log}");
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("no 200 from /healthz within five minutes");
    }

    private static readonly Regex AntiforgeryField = new(
        "<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"(?<token>[^\"]+)\"", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);

    /// <summary>As an editor signs in: the form (and its antiforgery cookie and token), then the POST.</summary>
    private static async Task SignInAsync(HttpClient http, Dictionary<string, string> cookies, string password)
    {
        var (status, form) = await GetAsync(http, cookies, "/admin/sign-in");
        var token = AntiforgeryField.Match(form);
        if (status != HttpStatusCode.OK || !token.Success)
        {
            throw new InvalidOperationException($"/admin/sign-in answered {(int)status} without an antiforgery token");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/sign-in")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["email"] = EditorEmail,
                ["password"] = password,
                ["returnUrl"] = "/admin",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups["token"].Value),
            }),
        };
        using var response = await SendAsync(http, cookies, request);
        if (response.StatusCode != HttpStatusCode.Redirect || !cookies.ContainsKey("newsletter-editor"))
        {
            throw new InvalidOperationException($"sign-in answered {(int)response.StatusCode} without the editor's cookie");
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, Dictionary<string, string> cookies, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(http, cookies, request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, Dictionary<string, string> cookies, HttpRequestMessage request)
    {
        if (cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        }
        var response = await http.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var set))
        {
            foreach (var pair in set.Select(c => c.Split(';', 2)[0].Split('=', 2)))
            {
                cookies[pair[0]] = pair[1];
            }
        }
        return response;
    }

    /// <summary>The pages must show what the seed built, or their times mean nothing.</summary>
    private static void Check(string page, string body, SeedResult seed)
    {
        if (page.StartsWith("/admin/api/publications/", StringComparison.Ordinal))
        {
            using var json = JsonDocument.Parse(body);
            var total = json.RootElement.GetProperty("total").GetInt32();
            if (total != seed.Subscribers)
            {
                throw new InvalidOperationException($"{page}: total {total}, expected {seed.Subscribers}");
            }
        }
        else if (page.StartsWith("/admin/publications/", StringComparison.Ordinal)
                 && !body.Contains($"data-field=\"total\">{seed.Subscribers}<", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{page} does not show the {seed.Subscribers:N0} recipients");
        }
        else if (page.StartsWith("/admin/", StringComparison.Ordinal) && body.Contains("action=\"/admin/sign-in\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{page} shows the sign-in form: not signed in");
        }
    }

    private static double Median(List<double> ms)
    {
        var s = ms.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>Nearest rank.</summary>
    private static double P95(List<double> ms)
    {
        var s = ms.Order().ToList();
        return s[Math.Clamp((int)Math.Ceiling(0.95 * s.Count) - 1, 0, s.Count - 1)];
    }

    private static string Report(BenchOptions o, string machine, DateTimeOffset started, SeedResult seed, List<Timing> timings)
    {
        var b = new StringBuilder();
        b.AppendLine("| page | median | p95 | max | response | meets its target (p95) |");
        b.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var t in timings)
        {
            var name = t.Page == "/healthz" ? "`GET /healthz` (baseline)" : $"`GET {t.Page}`{(t.Label is null ? "" : " with statistics")}";
            // The issue's targets: 100 ms for the calendar, queue and publication pages, 200 ms for a readers' search.
            var limit = t.Page.StartsWith("/admin/readers", StringComparison.Ordinal) ? 200 : 100;
            var target = t.Page == "/healthz" ? "" : P95(t.Ms) < limit ? $"yes (< {limit} ms)" : $"**no** (< {limit} ms)";
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {Median(t.Ms):0.0} ms | {P95(t.Ms):0.0} ms | {t.Ms.Max():0.0} ms | {t.Bytes / 1024.0:0.0} KB | {target} |");
        }
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture,
            $"Database: {seed.Subscribers:N0} confirmed readers, {seed.Subscriptions:N0} subscriptions; {seed.Publications:N0} publications " +
            $"over two years ({seed.Sent:N0} sent, the rest skipped slots), {seed.Issues:N0} issues ({seed.Queued} queued), " +
            $"{seed.Deliveries:N0} delivery rows; {seed.DatabaseGb:0.0} GB, built in {seed.Seconds:0} s.");
        b.AppendLine();
        b.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Run on {started:yyyy-MM-dd HH:mm} UTC. Machine: {machine}. {WarmUp} warm-up rounds, then {o.Runs} timed rounds, ") +
            "each page once per round; request to last byte over loopback, one keep-alive connection, signed in.");
        return b.ToString();
    }

    // ---------------------------------------------------------------- child: the database

    /// <summary>
    /// Child mode "pages-seed": a fresh database migrated by the app, then readers, an editor and the
    /// queue through the app's own services, and two years of history written as the publisher and
    /// the delivery engine leave it (one set-based statement per publication, as the snapshot is).
    /// </summary>
    public static async Task<int> SeedChildAsync(BenchOptions o)
    {
        var clock = Stopwatch.StartNew();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "newsletter",
        });
        builder.Configuration.AddInMemoryCollection(ImportRun.Configuration(o.Db, o.Work));
        builder.Logging.ClearProviders();
        builder.AddNewsletterCore();
        var now = TimeProvider.System.GetUtcNow();
        var since = now.AddDays(-730);
        string password;
        var queued = 0;
        var editions = new Dictionary<string, EditionSchedule>();
        using (var host = builder.Build())
        {
            await host.Services.PrepareNewsletterAsync(warmUpTemplates: false);
            var options = host.Services.GetRequiredService<IOptions<EditionsOptions>>().Value;
            foreach (var key in EditionKeys)
            {
                editions[key] = new EditionSchedule(options.Get(key));
            }
            await using (var connection = new SqliteConnection($"Data Source={o.Db}"))
            {
                await connection.OpenAsync();
                // Readers who signed up before the first publication, so each was a recipient of every one.
                await Readers.AddAsync(connection, host.Services.GetRequiredService<AddressHasher>(), o.Size, EditionKeys, since.AddDays(-30).UtcDateTime);
            }
            Console.WriteLine($"{o.Size:N0} readers added ({clock.Elapsed.TotalSeconds:0} s)");

            await using var scope = host.Services.CreateAsyncScope();
            var added = await scope.ServiceProvider.GetRequiredService<EditorAccounts>().AddAsync(EditorEmail, "Bench Editor", CancellationToken.None);
            password = added.OneTimePassword ?? throw new InvalidOperationException(added.Error);
            // Three of each edition's sample in the queue, as an editor a few weeks ahead has it.
            var queue = scope.ServiceProvider.GetRequiredService<IssueQueue>();
            var samples = Path.Combine(Machine.RepositoryRoot(), "samples", "issues");
            foreach (var key in EditionKeys)
            {
                for (var i = 0; i < 3; i++)
                {
                    var result = await queue.QueueFileAsync(Path.Combine(samples, key + ".md"), allowDuplicate: true);
                    if (result.Issue is null)
                    {
                        throw new InvalidOperationException(string.Join("; ", result.Problems));
                    }
                    queued++;
                }
            }
        }
        SqliteConnection.ClearAllPools();

        await using (var connection = new SqliteConnection($"Data Source={o.Db}"))
        {
            await connection.OpenAsync();
            await ExecAsync(connection, """UPDATE "Editors" SET "MustChangePassword" = 0""");
            // A bulk load: no rollback journal and no fsync while it runs (the file is thrown away if
            // it fails), a large page cache; WAL again at the end, as the app keeps the file.
            await ExecAsync(connection, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
            // The subscriber index takes its entries in random order; built once at the end, from its
            // own definition, it is the same index for a fraction of the time.
            var subscriberIndex = (string)(await ScalarAsync(connection,
                """SELECT "sql" FROM "sqlite_master" WHERE "type" = 'index' AND "name" = 'IX_Deliveries_SubscriberId'"""))!;
            await ExecAsync(connection, """DROP INDEX "IX_Deliveries_SubscriberId" """);

            var publications = 0;
            var sent = 0;
            var latest = 0;
            var history = editions
                .SelectMany(e => e.Value.SlotsBetween(since, now, limit: 1000).Select(slot => (Edition: e.Key, Slot: slot)))
                .OrderBy(s => s.Slot).ToList();
            // Each past issue a copy of the edition's queued sample, under its own subject.
            var templates = new Dictionary<string, int>();
            foreach (var key in EditionKeys)
            {
                templates[key] = Convert.ToInt32(await ScalarAsync(connection, """SELECT MIN("Id") FROM "Issues" WHERE "Edition" = @edition""",
                    ("@edition", key)), CultureInfo.InvariantCulture);
            }
            foreach (var (edition, slot) in history)
            {
                publications++;
                var at = slot.UtcDateTime;
                // One slot in 25 found the queue empty, as happens.
                if (publications % 25 == 0)
                {
                    await ExecAsync(connection, """
                        INSERT INTO "Publications" ("Edition", "SlotUtc", "Kind", "Status", "CreatedAt", "RecipientCount", "ErrorCount", "Note")
                        VALUES (@edition, @slot, 0, @skipped, @slot, 0, 0, 'Nothing was queued for this edition.')
                        """, ("@edition", edition), ("@slot", at), ("@skipped", (int)PublicationStatus.Skipped));
                    continue;
                }
                var issue = Convert.ToInt32(await ScalarAsync(connection, """
                    INSERT INTO "Issues" ("Edition", "Subject", "Preheader", "ExtrasJson", "BodyMarkdown", "SourceFile", "Status", "QueuedAt", "PublishedAt")
                    SELECT "Edition", "Subject" || ' (' || strftime('%Y-%m-%d', @slot) || ')', "Preheader", "ExtrasJson", "BodyMarkdown", "SourceFile",
                           @published, datetime(@slot, '-9 days'), @slot
                    FROM "Issues" WHERE "Id" = @template
                    RETURNING "Id"
                    """, ("@slot", at), ("@published", (int)IssueStatus.Published), ("@template", templates[edition])), CultureInfo.InvariantCulture);
                var publication = Convert.ToInt32(await ScalarAsync(connection, """
                    INSERT INTO "Publications" ("Edition", "SlotUtc", "Kind", "Status", "IssueId", "CreatedAt", "CompletedAt", "RecipientCount", "ErrorCount", "SummarySentAt")
                    VALUES (@edition, @slot, 0, @completed, @issue, @slot, datetime(@slot, '+40 seconds'), @recipients, 0, datetime(@slot, '+41 seconds'))
                    RETURNING "Id"
                    """, ("@edition", edition), ("@slot", at), ("@completed", (int)PublicationStatus.Completed), ("@issue", issue),
                    ("@recipients", o.Size)), CultureInfo.InvariantCulture);
                // Every recipient's row as a finished send leaves it: ~0.3% refused for good, ~0.2% skipped
                // (left after the snapshot), the rest accepted over ~40 s; ~0.1% left through the issue's link.
                await ExecAsync(connection, """
                    INSERT INTO "Deliveries" ("PublicationId", "SubscriberId", "Status", "Attempts", "NextAttemptAt", "FirstAttemptAt",
                                              "CompletedAt", "ReplyCode", "LastResult", "UnsubscribedAt")
                    SELECT @publication, "SubscriberId",
                           CASE WHEN h < 3 THEN @failed WHEN h < 5 THEN @skipped ELSE @sent END,
                           CASE WHEN h < 3 THEN 1 WHEN h < 5 THEN 0 ELSE 1 END,
                           @slot,
                           CASE WHEN h BETWEEN 3 AND 4 THEN NULL ELSE datetime(@slot, '+' || ("SubscriberId" * 4 / 10000) || ' seconds') END,
                           datetime(@slot, '+' || ("SubscriberId" * 4 / 10000) || ' seconds'),
                           CASE WHEN h < 3 THEN 550 WHEN h < 5 THEN NULL ELSE 250 END,
                           CASE WHEN h < 3 THEN '550 5.1.1 <reader' || "SubscriberId" || '@example.org>: Recipient address rejected: User unknown'
                                WHEN h < 5 THEN 'unsubscribed after the snapshot'
                                ELSE '250 2.0.0 Ok: queued as ' || printf('%X', "SubscriberId" * 7919 + @publication) END,
                           CASE WHEN h >= 5 AND ("SubscriberId" * 31 + @publication) % 1000 = 0 THEN datetime(@slot, '+1 days') END
                    FROM (SELECT "SubscriberId", ("SubscriberId" * 7919 + @publication * 104729) % 1000 AS h
                          FROM "Subscriptions" WHERE "Edition" = @edition AND "Status" = @active ORDER BY "SubscriberId")
                    """, ("@publication", publication), ("@slot", at), ("@edition", edition), ("@active", (int)SubscriptionStatus.Active),
                    ("@failed", (int)DeliveryStatus.Failed), ("@skipped", (int)DeliveryStatus.Skipped), ("@sent", (int)DeliveryStatus.Sent));
                sent++;
                latest = publication;
                if (sent % 20 == 0)
                {
                    Console.WriteLine($"{sent} publications written ({clock.Elapsed.TotalSeconds:0} s)");
                }
            }
            Console.WriteLine($"creating the subscriber index ({clock.Elapsed.TotalSeconds:0} s)");
            await ExecAsync(connection, subscriberIndex);
            await ExecAsync(connection, "PRAGMA journal_mode=WAL;");

            long Count(string table)
            {
                using var command = Command(connection, $"""SELECT count(*) FROM "{table}" """, []);
                return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
            var result = new SeedResult(
                (int)Count("Subscribers"), Count("Subscriptions"), publications, sent, Count("Deliveries"), (int)Count("Issues"), queued, latest,
                password, clock.Elapsed.TotalSeconds, new FileInfo(o.Db).Length / 1e9);
            Console.WriteLine($"built in {result.Seconds:0} s: {result.Deliveries:N0} delivery rows, {result.DatabaseGb:0.0} GB");
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        }
        return 0;
    }

    private static async Task ExecAsync(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteScalarAsync();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
