using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Rendering;
using Newsletter.Worker;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Links;
using Newsletter.Worker.Publishing;

namespace Newsletter.Bench;

/// <summary>The child modes: "seed" fills a fresh database with subscribers; "send" publishes and
/// delivers one padded issue per edition through real SMTP and measures (one process per list
/// size, so its peak RSS is the send's own).</summary>
internal static class SendRun
{
    private static readonly string[] Editions = ["weekly-fact", "weekly-tip", "monthly-spotlight"];

    private static IHost BuildHost(BenchOptions o)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "newsletter",
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Newsletter"] = $"Data Source={o.Db}",
            ["Database:Provider"] = "Sqlite",
            ["Delivery:Transport"] = "Smtp",
            ["Delivery:Connections"] = $"{o.Connections}",
            ["Delivery:ProgressInterval"] = "00:00:05",
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = $"{o.Port}",
            ["Smtp:Security"] = "None",
            ["Newsletter:Name"] = "Steady Ground",
            ["Newsletter:PublicBaseUrl"] = "https://news.example.org",
            ["Newsletter:TokenSecret"] = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 31 + 7)).ToArray()),
            ["Newsletter:SignOff"] = "Until next time, be gentle with yourself.",
            ["Newsletter:Disclaimer"] = "This newsletter shares information for general education only. It is not medical or psychological advice.",
            ["Newsletter:CrisisResources"] = "If you are in crisis, call or text 988 (US) or your local emergency number right now.",
            ["Newsletter:PostalAddress"] = "Steady Ground Newsletter, 100 Example Street, Springfield, USA",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => c.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Newsletter.Worker.Delivery", LogLevel.Information);
        builder.Logging.AddFilter("Newsletter.Worker.Publishing", LogLevel.Information);
        builder.AddNewsletterCore();
        return builder.Build();
    }

    /// <summary>N confirmed subscribers, each subscribed to every edition, inserted in one transaction.</summary>
    public static async Task<int> SeedAsync(BenchOptions o)
    {
        using var host = BuildHost(o);
        await host.Services.PrepareNewsletterAsync(warmUpTemplates: false);
        var clock = Stopwatch.StartNew();
        await using var connection = new SqliteConnection($"Data Source={o.Db}");
        await connection.OpenAsync();
        await Readers.AddAsync(connection, host.Services.GetRequiredService<AddressHasher>(), o.Size, Editions, DateTime.SpecifyKind(new DateTime(2026, 1, 5, 12, 0, 0), DateTimeKind.Utc));
        Console.WriteLine($"seeded {o.Size:N0} subscribers × {Editions.Length} editions in {clock.Elapsed.TotalSeconds:0.0}s");
        return 0;
    }

    public static async Task<int> SendAsync(BenchOptions o)
    {
        using var host = BuildHost(o);
        var services = host.Services;
        Phase("host built");
        await services.PrepareNewsletterAsync(warmUpTemplates: false);
        await services.GetRequiredService<IEmailRenderer>().WarmUpAsync();
        Phase("database ready, templates compiled");
        var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
        var engine = services.GetRequiredService<DeliveryEngine>();

        // One issue per edition, padded to about the target HTML size (queued the way the editor does).
        var issueIds = new Dictionary<string, int>();
        var htmlBytes = 0;
        foreach (var edition in Editions)
        {
            var (id, bytes) = await QueuePaddedIssueAsync(services, edition, o.HtmlBytes);
            issueIds[edition] = id;
            htmlBytes = Math.Max(htmlBytes, bytes);
        }

        Phase("issues queued");
        // The baseline is measured either side of each send rather than once after all of them: on
        // a shared 2-core VM smtp-source's rate drifts by a fifth or more within minutes, and a
        // baseline taken minutes away from a send compares it with a different machine.
        var wireBytes = await WireBytesAsync(services, editions, issueIds["weekly-tip"]);
        var sourceBefore = await SmtpSource.RunAsync(o, wireBytes, reuse: true);
        var results = new List<EditionResult>();
        foreach (var edition in Editions)
        {
            using var sampler = new RssSampler();
            using var cost = new CostSampler();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            var gcPause = GC.GetTotalPauseDuration();
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var sinkCpu = o.SinkPid > 0 ? Machine.CpuTime(o.SinkPid) : TimeSpan.Zero;
            var clock = Stopwatch.StartNew();
            PublishResult published;
            await using (var scope = services.CreateAsyncScope())
            {
                published = await scope.ServiceProvider.GetRequiredService<Publisher>().PublishNowAsync(issueIds[edition]);
            }
            var snapshot = clock.Elapsed;
            var final = await engine.RunAsync(published.Publication!.Id);
            var total = clock.Elapsed;
            var (firstTenth, lastTenth) = cost.Tenths();
            var cpuPerMessage = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / Math.Max(1, final.Sent);
            var sinkPerMessage = o.SinkPid > 0 ? (Machine.CpuTime(o.SinkPid) - sinkCpu).TotalMicroseconds / Math.Max(1, final.Sent) : 0;
            var sourceAfter = await SmtpSource.RunAsync(o, wireBytes, reuse: true);
            results.Add(new EditionResult(edition, final.Sent, final.Failed, snapshot.TotalSeconds, total.TotalSeconds,
                final.Sent / total.TotalSeconds, sampler.MaxMb, cpuPerMessage, sinkPerMessage, sourceBefore, sourceAfter));
            sourceBefore = sourceAfter;
            Console.WriteLine($"{edition}: {final.Sent:N0} sent, {final.Failed:N0} failed; snapshot {snapshot.TotalMilliseconds:0} ms; " +
                              $"publication to last accepted {total.TotalSeconds:0.00} s = {final.Sent / total.TotalSeconds:0} msg/s; max RSS {sampler.MaxMb:0} MB; " +
                              $"CPU per message: {cpuPerMessage:0} µs here, {sinkPerMessage:0} µs in smtp-sink; " +
                              $"allocated {(GC.GetTotalAllocatedBytes(precise: false) - allocated) / 1024.0 / Math.Max(1, final.Sent):0.0} KB per message, " +
                              $"GCs {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2} (gen 0/1/2), " +
                              $"paused {(GC.GetTotalPauseDuration() - gcPause).TotalMilliseconds / total.TotalMilliseconds * 100:0.0}% of the time; " +
                              $"CPU per message in the first tenth {firstTenth:0} µs, in the last tenth {lastTenth:0} µs; " +
                              $"database {DatabaseMb(o.Db):0} MB");
            Phase($"{edition} sent");
        }
        var peak = Child.ReadSelfKb("VmHWM") / 1024.0;

        var micros = await MeasurePerRecipientAsync(services, editions, issueIds["weekly-tip"]);
        var result = new SendResult(o.Size, o.Connections, results, wireBytes, htmlBytes, peak, micros);
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>The size on the wire (CRLF) of one recipient's message of the issue: smtp-source sends messages of this size.</summary>
    private static async Task<int> WireBytesAsync(IServiceProvider services, EditionsOptions editions, int issueId)
    {
        var edition = editions.Get("weekly-tip");
        var encoded = new EncodedEmail(await PrepareAsync(services, edition, issueId));
        var url = services.GetRequiredService<LinkBuilder>().Unsubscribe(Subscriber.NewLinkKey(), edition.Key, 1);
        var message = services.GetRequiredService<MessageFactory>().Build(edition, encoded.Subject,
            encoded.Personalize(new PersonalFields("Reader 0", url)), new Recipient(1, "reader1@example.org", "Reader 0"), url, "1.0.0");
        using var counter = new MemoryStream();
        message.WriteTo(WireFormat(), counter);
        return (int)counter.Length;
    }

    /// <summary>MIME as it goes on the wire: CRLF line ends.</summary>
    private static FormatOptions WireFormat()
    {
        var wire = FormatOptions.Default.Clone();
        wire.NewLineFormat = NewLineFormat.Dos;
        return wire;
    }

    /// <summary>The issue rendered once for sending, as the delivery engine prepares it.</summary>
    private static async Task<PreparedEmail> PrepareAsync(IServiceProvider services, EditionOptions edition, int issueId)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        var issue = await db.Issues.AsNoTracking().FirstAsync(i => i.Id == issueId);
        return await services.GetRequiredService<IEmailRenderer>().PrepareAsync(scope.ServiceProvider.GetRequiredService<EditionEmailFactory>()
            .Create(issue, new EditionSchedule(edition).LocalDate(new DateTimeOffset(2026, 1, 5, 14, 0, 0, TimeSpan.Zero))));
    }

    private static double DatabaseMb(string db) =>
        new[] { db, db + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length) / 1048576.0;

    private static void Phase(string what) => Console.WriteLine(
        $"[RSS {Child.ReadSelfKb("VmRSS") / 1024.0:0} MB, peak {Child.ReadSelfKb("VmHWM") / 1024.0:0} MB, GC heap {GC.GetTotalMemory(false) / 1048576.0:0} MB, committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:0} MB] {what}");

    /// <summary>Queues the sample issue of <paramref name="edition"/> with padding paragraphs so that
    /// its HTML is about <paramref name="targetBytes"/>; returns the issue's id and its HTML size.</summary>
    private static async Task<(int Id, int HtmlBytes)> QueuePaddedIssueAsync(IServiceProvider services, string edition, int targetBytes)
    {
        var sample = await File.ReadAllTextAsync(Path.Combine(Machine.RepositoryRoot(), "samples", "issues", edition + ".md"));
        var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
        var renderer = services.GetRequiredService<IEmailRenderer>();
        await using var scope = services.CreateAsyncScope();
        var factory = scope.ServiceProvider.GetRequiredService<EditionEmailFactory>();
        async Task<int> HtmlSize(int paragraphs)
        {
            var (parsed, problems) = IssueFile.Parse(Padded(sample, paragraphs), editions);
            if (parsed is null)
            {
                throw new InvalidOperationException(string.Join("; ", problems.Select(p => p.Format(edition))));
            }
            return (await renderer.PrepareAsync(factory.Create(parsed, new DateOnly(2026, 1, 5)))).HtmlByteCount;
        }
        var zero = await HtmlSize(0);
        var per = (await HtmlSize(20) - zero) / 20.0;
        var count = Math.Max(0, (int)Math.Round((targetBytes - zero) / per));
        var path = Path.Combine(Path.GetTempPath(), $"newsletter-bench-{edition}-{Environment.ProcessId}.md");
        await File.WriteAllTextAsync(path, Padded(sample, count));
        var queued = await scope.ServiceProvider.GetRequiredService<IssueQueue>().QueueFileAsync(path);
        File.Delete(path);
        if (queued.Issue is null)
        {
            throw new InvalidOperationException(string.Join("; ", queued.Problems));
        }
        return (queued.Issue.Id, await HtmlSize(count));
    }

    private static string Padded(string sample, int paragraphs)
    {
        var b = new StringBuilder(sample.TrimEnd()).Append("\n\n## More to read\n");
        for (var i = 0; i < paragraphs; i++)
        {
            b.Append(CultureInfo.InvariantCulture, $"\nParagraph {i + 1}: small, steady habits add up. ")
                .Append("Notice one thing that went well today, however small, and give yourself credit for it. ")
                .Append("Rest counts as progress, and asking for help is a strength.\n");
        }
        return b.ToString();
    }

    /// <summary>
    /// Single-threaded cost of each per-recipient step, after the sends: signing the unsubscribe
    /// link, filling the personal slots into pre-encoded parts, building the MimeMessage (and, for
    /// reference, with DKIM), serialising it as it goes on the wire, and recording an outcome (the
    /// prepared UPDATE, on rows claimed for it).
    /// </summary>
    private static async Task<Dictionary<string, double>> MeasurePerRecipientAsync(
        IServiceProvider services, EditionsOptions editions, int issueId)
    {
        const int n = 20_000;
        var links = services.GetRequiredService<LinkBuilder>();
        var messages = services.GetRequiredService<MessageFactory>();
        var edition = editions.Get("weekly-tip");
        var prepared = await PrepareAsync(services, edition, issueId);

        var micros = new Dictionary<string, double>();
        string[] urls = new string[n];
        var linkKeys = Enumerable.Range(0, n).Select(_ => Subscriber.NewLinkKey()).ToArray();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            urls[i] = links.Unsubscribe(linkKeys[i], edition.Key, 1);
        }
        micros["sign link"] = clock.Elapsed.TotalMicroseconds / n;

        // The delivery path, as each sender does it: literal text encoded once per run, per recipient
        // only the personal values, into the sender's reused buffers; then the sender's message refilled.
        var encoded = new EncodedEmail(prepared);
        var buffers = new EncodedBodyBuffers();
        var body = default(EncodedBody);
        clock.Restart();
        for (var i = 0; i < n; i++)
        {
            body = encoded.Personalize(new PersonalFields($"Reader {i}", urls[i]), buffers);
        }
        micros["personalise (pre-encoded parts)"] = clock.Elapsed.TotalMicroseconds / n;

        // For comparison: the string form (previews, test sends), no longer on the delivery path.
        clock.Restart();
        for (var i = 0; i < n; i++)
        {
            _ = prepared.Personalize(new PersonalFields($"Reader {i}", urls[i]));
        }
        micros["(strings, previews only)"] = clock.Elapsed.TotalMicroseconds / n;

        var senderMessage = messages.ForSender(edition, encoded.Subject);
        clock.Restart();
        for (var i = 0; i < n; i++)
        {
            _ = senderMessage.Fill(body, new Recipient(i + 1, $"reader{i + 1}@example.org", $"Reader {i}"), urls[i], $"1.{i}.{i}");
        }
        micros["build MimeMessage (refill)"] = clock.Elapsed.TotalMicroseconds / n;

        // A few fresh messages are kept, as in a real send (one message in flight per connection):
        // keeping a thousand alive would measure the GC promoting them, not the step.
        const int kept = 8;
        var built = new MimeMessage[kept];
        var keptBodies = Enumerable.Range(0, kept).Select(i => encoded.Personalize(new PersonalFields($"Reader {i}", urls[i]))).ToArray();
        clock.Restart();
        for (var i = 0; i < n; i++)
        {
            built[i % built.Length] = messages.Build(edition, encoded.Subject, keptBodies[i % kept],
                new Recipient(i + 1, $"reader{i + 1}@example.org", $"Reader {i}"), urls[i], $"1.{i}.{i}");
        }
        micros["(fresh build, previews)"] = clock.Elapsed.TotalMicroseconds / n;

        // DKIM (off in this benchmark): the same refill with a 2048-bit key; an RSA signature per message.
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var dkimOptions = Options.Create(new MessageOptions
            {
                Dkim = { Domain = "example.org", Selector = "bench", PrivateKey = rsa.ExportPkcs8PrivateKeyPem() },
            });
            var signing = new MessageFactory(services.GetRequiredService<IOptions<NewsletterOptions>>(), dkimOptions,
                new DkimSigning(dkimOptions), new VerpAddresses(dkimOptions, links.Signer), TimeProvider.System)
                .ForSender(edition, encoded.Subject);
            const int signed = 2_000;
            clock.Restart();
            for (var i = 0; i < signed; i++)
            {
                _ = signing.Fill(body, new Recipient(i + 1, $"reader{i + 1}@example.org", $"Reader {i}"), urls[i], $"1.{i}.{i}");
            }
            micros["(refill with DKIM signing)"] = clock.Elapsed.TotalMicroseconds / signed;
        }

        var wire = WireFormat();
        clock.Restart();
        for (var i = 0; i < n; i++)
        {
            built[i % built.Length].WriteTo(wire, Stream.Null);
        }
        micros["serialise MIME"] = clock.Elapsed.TotalMicroseconds / n;

        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            var ids = await db.Deliveries.OrderBy(d => d.Id).Select(d => d.Id).Take(n).ToListAsync();
            await db.Deliveries.Where(d => ids.Contains(d.Id)).ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, DeliveryStatus.Claimed).SetProperty(d => d.LeaseOwner, "bench"));
            await using var writer = await OutcomeWriter.OpenAsync(db, OutcomeDurability.ProcessCrash, CancellationToken.None);
            var now = DateTime.SpecifyKind(new DateTime(2026, 1, 5, 12, 0, 0), DateTimeKind.Utc);
            clock.Restart();
            foreach (var id in ids)
            {
                await writer.AcceptAsync(id, "bench", 1, now, 250, "250 2.0.0 Ok: queued as 1234ABCD");
            }
            micros["record outcome (SQLite)"] = clock.Elapsed.TotalMicroseconds / ids.Count;
        }
        // The SMTP ceiling of MailKit itself: prebuilt messages over the same number of connections,
        // as the engine's senders do, nothing else (no rendering, no database).
        var transport = services.GetRequiredService<IMailTransport>();
        var connections = services.GetRequiredService<IOptions<DeliveryOptions>>().Value.Connections;
        var from = new MailboxAddress("", "newsletter@example.org");
        var rcpt = new MailboxAddress("", "reader1@example.org");
        const int perConnection = 2_500;
        // Each connection its own message: one message must never be written by two connections at once.
        var prebuilt = Enumerable.Range(0, connections).Select(c => messages.Build(edition, encoded.Subject, keptBodies[c % kept],
            new Recipient(c + 1, $"reader{c + 1}@example.org", $"Reader {c}"), urls[c], $"2.{c}.{c}")).ToArray();
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await transport.OpenAsync(CancellationToken.None);
            for (var i = 0; i < perConnection; i++)
            {
                await connection.SendAsync(prebuilt[c], from, rcpt, CancellationToken.None);
            }
        })));
        micros["MailKit send, prebuilt message (µs wall per message, all connections)"] = clock.Elapsed.TotalMicroseconds / (connections * perConnection);
        return micros;
    }

    /// <summary>Samples this process's RSS every 100 ms while alive.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private double _max;

        public RssSampler()
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    _max = Math.Max(_max, Child.ReadSelfKb("VmRSS") / 1024.0);
                    try
                    {
                        await Task.Delay(100, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });
        }

        public double MaxMb => Math.Max(_max, Child.ReadSelfKb("VmRSS") / 1024.0);

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
            _stop.Dispose();
        }
    }
}
