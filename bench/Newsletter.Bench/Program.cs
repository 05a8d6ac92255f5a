using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Newsletter.Bench;

// The delivery benchmark. Without a mode it orchestrates: starts Postfix's smtp-sink, and for each
// list size runs a "seed" child (creates the subscribers) and a "send" child (publishes one issue
// of each edition through real SMTP and measures), then smtp-source against the same sink with the
// same connection count and message size, and prints the comparison. See docs/benchmarks.md.
// The import benchmark is the "import" mode (scripts/bench import --rows 10000,100000): see ImportRun.
// The start-up benchmark is the "startup" mode (scripts/bench startup --runs 5): see StartupRun.
// The workspace page-speed benchmark is the "pages" mode (scripts/bench pages --subscribers 100000): see PagesRun.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = BenchOptions.Parse(args);
return options.Mode switch
{
    "seed" => await SendRun.SeedAsync(options),
    "send" => await SendRun.SendAsync(options),
    "import" => await ImportRun.RunAsync(options),
    "import-run" => await ImportRun.CommandChildAsync(options),
    "import-baseline" => await ImportRun.BaselineChildAsync(options),
    "startup" => await StartupRun.RunAsync(options),
    "pages" => await PagesRun.RunAsync(options),
    "pages-seed" => await PagesRun.SeedChildAsync(options),
    _ => await Orchestrator.RunAsync(options),
};

namespace Newsletter.Bench
{
    internal sealed record BenchOptions
    {
        public string Mode { get; init; } = "";
        public int[] Sizes { get; init; } = [10_000, 100_000];
        public int Size { get; init; }
        public int Connections { get; init; } = 4;
        public int Port { get; init; } = 2525;
        public int SourceMessages { get; init; } = 20_000;
        public int HtmlBytes { get; init; } = 20 * 1024;
        public string Work { get; init; } = Path.Combine(Path.GetTempPath(), "newsletter-bench");
        public string Db { get; init; } = "";
        public string? Markdown { get; init; }
        public int SinkPid { get; init; }

        // The import benchmark (mode "import") and its children.
        public int[] Rows { get; init; } = [100_000];
        public string Csv { get; init; } = "";
        public bool DryRun { get; init; }
        public string Step { get; init; } = "";

        // The start-up benchmark (mode "startup"): the published command and the build output to compare it with.
        public int Runs { get; init; } = 5;
        public string Published { get; init; } = "";
        public string Baseline { get; init; } = "";

        // The page-speed benchmark (mode "pages"): the service's build output, and whether to keep a database built before.
        public string App { get; init; } = "";
        public bool Reuse { get; init; }

        public static BenchOptions Parse(string[] args)
        {
            var o = new BenchOptions();
            var i = 0;
            if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
            {
                o = o with { Mode = args[0] };
                i = 1;
            }
            for (; i < args.Length; i += 2)
            {
                var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
                o = args[i] switch
                {
                    "--sizes" => o with { Sizes = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                    "--size" => o with { Size = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--connections" => o with { Connections = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--port" => o with { Port = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--source-messages" => o with { SourceMessages = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--html-bytes" => o with { HtmlBytes = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--work" => o with { Work = value },
                    "--db" => o with { Db = value },
                    "--markdown" => o with { Markdown = value },
                    "--sink-pid" => o with { SinkPid = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--rows" => o with { Rows = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                    "--csv" => o with { Csv = value },
                    "--dry-run" => o with { DryRun = bool.Parse(value) },
                    "--step" => o with { Step = value },
                    "--runs" => o with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--published" => o with { Published = value },
                    "--baseline" => o with { Baseline = value },
                    "--subscribers" => o with { Size = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--app" => o with { App = value },
                    "--reuse" => o with { Reuse = bool.Parse(value) },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            return o;
        }

        public IEnumerable<string> ChildArgs(string mode, int size, string db) =>
        [
            mode, "--size", $"{size}", "--db", db, "--port", $"{Port}", "--connections", $"{Connections}",
            "--html-bytes", $"{HtmlBytes}", "--sink-pid", $"{SinkPid}",
        ];
    }

    /// <summary>What a send child measured, handed to the orchestrator as one JSON line.</summary>
    internal sealed record SendResult(
        int Recipients,
        int Connections,
        List<EditionResult> Editions,
        int MessageBytes,
        int HtmlBytes,
        double PeakRssMb,
        Dictionary<string, double> MicrosPerRecipient);

    /// <param name="CpuMicrosPerMessage">CPU time of the send process (all threads) per message sent, over the edition's send.</param>
    /// <param name="SinkCpuMicrosPerMessage">CPU time of smtp-sink per message over the same interval (0 when unknown).</param>
    /// <param name="Before">smtp-source (-d, same connections and message size) just before this edition's send.</param>
    /// <param name="After">The same, just after it (the next edition's "before").</param>
    internal sealed record EditionResult(
        string Edition, int Sent, int Failed, double SnapshotSeconds, double EndToEndSeconds, double MessagesPerSecond, double MaxRssMb,
        double CpuMicrosPerMessage, double SinkCpuMicrosPerMessage, SourceRun Before, SourceRun After)
    {
        /// <summary>The baseline for this send: the mean of the smtp-source runs either side of it.</summary>
        public double Source => (Before.Rate + After.Rate) / 2;
    }

    /// <summary>One smtp-source run: its rate, and the CPU per message it and smtp-sink spent (0 when unknown).</summary>
    internal sealed record SourceRun(double Rate, double SourceCpuMicrosPerMessage, double SinkCpuMicrosPerMessage)
    {
        /// <summary>The mean of two runs (the ones either side of a send).</summary>
        public static SourceRun Mean(SourceRun a, SourceRun b) => new((a.Rate + b.Rate) / 2,
            (a.SourceCpuMicrosPerMessage + b.SourceCpuMicrosPerMessage) / 2, (a.SinkCpuMicrosPerMessage + b.SinkCpuMicrosPerMessage) / 2);
    }

    /// <summary>Postfix's smtp-source against the benchmark's sink: the machine's SMTP limit we are measured against.</summary>
    internal static class SmtpSource
    {
        public const string Path = "/usr/sbin/smtp-source";

        /// <summary>smtp-source's rate with the same connection count and message size (-d: reuse each connection,
        /// as we do), and what it and the sink spent per message: the sink shares the two cores with whatever
        /// drives it, so its cost per message is what a send's ratio turns on (docs/benchmarks.md).</summary>
        public static async Task<SourceRun> RunAsync(BenchOptions o, int messageBytes, bool reuse)
        {
            var args = $"-s {o.Connections} -m {o.SourceMessages} -l {messageBytes} {(reuse ? "-d " : "")}-f a@example.org -t b@example.org 127.0.0.1:{o.Port}";
            var sink = o.SinkPid > 0 ? Machine.CpuTime(o.SinkPid) : TimeSpan.Zero;
            var children = Machine.ChildrenCpuTime();
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(new ProcessStartInfo(Path, args) { UseShellExecute = false })!;
            await p.WaitForExitAsync();
            var rate = o.SourceMessages / clock.Elapsed.TotalSeconds;
            // smtp-source is the only child that ends meanwhile, so the waited-for children's CPU grew by its own.
            var run = new SourceRun(rate, (Machine.ChildrenCpuTime() - children).TotalMicroseconds / o.SourceMessages,
                o.SinkPid > 0 ? (Machine.CpuTime(o.SinkPid) - sink).TotalMicroseconds / o.SourceMessages : 0);
            Console.WriteLine($"   smtp-source {args}: {rate:0} msg/s; CPU per message {run.SourceCpuMicrosPerMessage:0} µs in smtp-source, " +
                              $"{run.SinkCpuMicrosPerMessage:0} µs in smtp-sink");
            return run;
        }
    }

    internal static class Orchestrator
    {
        public static async Task<int> RunAsync(BenchOptions o)
        {
            const string sink = "/usr/sbin/smtp-sink";
            if (!File.Exists(sink) || !File.Exists(SmtpSource.Path))
            {
                await Console.Error.WriteLineAsync("Postfix's smtp-sink and smtp-source are needed (apt-get install postfix); see docs/benchmarks.md");
                return 2;
            }
            Directory.CreateDirectory(o.Work);
            var machine = Machine.Describe();
            Console.WriteLine($"Machine: {machine}");

            var root = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";
            var sinkArgs = (root ? "-u nobody " : "") + $"127.0.0.1:{o.Port} 1000";
            using var sinkProcess = Process.Start(new ProcessStartInfo(sink, sinkArgs) { UseShellExecute = false })
                ?? throw new InvalidOperationException("smtp-sink did not start");
            try
            {
                await Task.Delay(500);
                var rows = new List<(SendResult Send, double SourceNewConnections)>();
                foreach (var size in o.Sizes)
                {
                    var db = Path.Combine(o.Work, $"bench-{size}.db");
                    foreach (var f in new[] { db, db + "-wal", db + "-shm" })
                    {
                        File.Delete(f);
                    }
                    Console.WriteLine($"\n== {size:N0} subscribers");
                    var seed = await Child.RunAsync(o.ChildArgs("seed", size, db));
                    Console.WriteLine(seed.Last);
                    var send = await Child.RunAsync((o with { SinkPid = sinkProcess.Id }).ChildArgs("send", size, db));
                    var result = JsonSerializer.Deserialize<SendResult>(send.Last["RESULT ".Length..])!;
                    // The -d baseline runs inside the send child, either side of each edition's send (see SendRun).
                    var sourceNew = (await SmtpSource.RunAsync(o with { SinkPid = sinkProcess.Id }, result.MessageBytes, reuse: false)).Rate;
                    rows.Add((result, sourceNew));
                }
                await Output.ReportAsync(Report(o, machine, rows), o.Markdown);
                return 0;
            }
            finally
            {
                sinkProcess.Kill();
                await sinkProcess.WaitForExitAsync();
            }
        }

        private static string Report(BenchOptions o, string machine, List<(SendResult Send, double SourceNew)> rows)
        {
            var b = new StringBuilder();
            b.AppendLine("| subscribers | edition | snapshot | publication → last accepted | msgs/s | smtp-source -d msgs/s (before / after) | ratio (to their mean) | peak RSS (send) | CPU µs/msg: send process / smtp-sink | under smtp-source (mean of before and after): smtp-source / smtp-sink |");
            b.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (send, _) in rows)
            {
                foreach (var e in send.Editions)
                {
                    var source = SourceRun.Mean(e.Before, e.After);
                    b.AppendLine($"| {send.Recipients:N0} | {e.Edition} | {e.SnapshotSeconds * 1000:0} ms | {e.EndToEndSeconds:0.00} s | {e.MessagesPerSecond:0} | {e.Before.Rate:0} / {e.After.Rate:0} | {e.MessagesPerSecond / e.Source:0.00} | {e.MaxRssMb:0} MB | {e.CpuMicrosPerMessage:0} / {e.SinkCpuMicrosPerMessage:0} | {source.SourceCpuMicrosPerMessage:0} / {source.SinkCpuMicrosPerMessage:0} |");
                }
            }
            b.AppendLine();
            b.AppendLine("| subscribers | message size | HTML part | peak RSS (VmHWM) | smtp-source without -d (new connection per message) |");
            b.AppendLine("|---:|---:|---:|---:|---:|");
            foreach (var (send, sourceNew) in rows)
            {
                b.AppendLine($"| {send.Recipients:N0} | {send.MessageBytes:N0} B | {send.HtmlBytes:N0} B | {send.PeakRssMb:0} MB | {sourceNew:0} msg/s |");
            }
            b.AppendLine();
            b.AppendLine("Cost per recipient (µs, single thread, measured in the send process after the sends):");
            b.AppendLine();
            b.AppendLine("| subscribers | " + string.Join(" | ", rows[0].Send.MicrosPerRecipient.Keys) + " |");
            b.AppendLine("|---:|" + string.Concat(rows[0].Send.MicrosPerRecipient.Keys.Select(_ => "---:|")));
            foreach (var (send, _) in rows)
            {
                b.AppendLine($"| {send.Recipients:N0} | " + string.Join(" | ", send.MicrosPerRecipient.Values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))) + " |");
            }
            b.AppendLine();
            b.AppendLine($"Machine: {machine}; Delivery:Connections={o.Connections}; smtp-source -s {o.Connections} -m {o.SourceMessages}.");
            return b.ToString();
        }
    }

    /// <summary>This benchmark's own executable run again in a child mode; its last stdout line is its result.</summary>
    internal static class Child
    {
        public sealed record Outcome(string Last);

        public static double ReadSelfKb(string field) => Machine.ReadKb(Environment.ProcessId, field);

        public static async Task<Outcome> RunAsync(IEnumerable<string> args)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
            // As docs/deployment advice for the service: glibc's per-thread malloc arenas otherwise
            // add tens of megabytes of resident memory to a .NET process with a busy thread pool.
            if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            {
                start.Environment["MALLOC_ARENA_MAX"] = "2";
            }
            // Also as the README advises for the service: a 16 MB gen-0 budget. On this VM the runtime
            // sizes it from the CPU cache it is told about, ~2 MB, and a send collected every ~120
            // messages, stopping all senders each time (~3% of the wall time). Only the environment
            // variable sets it (the runtime does not read it from runtimeconfig.json).
            if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null)
            {
                start.Environment["DOTNET_GCgen0size"] = "0x1000000";
            }
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            {
                start.ArgumentList.Add(typeof(Child).Assembly.Location);
            }
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            using var p = Process.Start(start)!;
            var last = "";

            var reader = Task.Run(async () =>
            {
                while (await p.StandardOutput.ReadLineAsync() is { } line)
                {
                    if (!line.StartsWith("RESULT ", StringComparison.Ordinal))
                    {
                        Console.WriteLine($"   {line}");
                    }
                    last = line;
                }
            });
            await p.WaitForExitAsync();
            await reader;
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"the {string.Join(' ', args.Take(1))} child failed with exit code {p.ExitCode}");
            }
            return new Outcome(last);
        }
    }

    /// <summary>Where a benchmark's tables go: standard output, and the --markdown file when given.</summary>
    internal static class Output
    {
        public static async Task ReportAsync(string report, string? markdown)
        {
            Console.WriteLine();
            Console.WriteLine(report);
            if (markdown is not null)
            {
                await File.WriteAllTextAsync(markdown, report);
                Console.WriteLine($"(written to {markdown})");
            }
        }
    }

    internal static class Machine
    {
        /// <summary>The checkout the benchmark was built in (the folder holding Newsletter.sln).</summary>
        public static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Newsletter.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Newsletter.sln not found above the benchmark");
        }

        public static string Describe()
        {
            var cpu = File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                : null;
            var os = File.Exists("/etc/os-release")
                ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"')
                : null;
            return $"{Environment.ProcessorCount} cores, {cpu ?? "unknown CPU"}, {os ?? Environment.OSVersion.ToString()}, " +
                   $".NET {Environment.Version}";
        }

        /// <summary>User + system CPU time of this process's children that have ended and been waited for (getrusage).</summary>
        public static TimeSpan ChildrenCpuTime()
        {
            // struct rusage on 64-bit Linux: ru_utime and ru_stime (seconds, microseconds each), then 14 longs.
            var usage = new long[18];
            return GetRUsage(RUsageChildren, usage) == 0
                ? TimeSpan.FromMicroseconds((usage[0] + usage[2]) * 1_000_000.0 + usage[1] + usage[3])
                : TimeSpan.Zero;
        }

        private const int RUsageChildren = -1;

        [DllImport("libc", EntryPoint = "getrusage")]
        private static extern int GetRUsage(int who, [Out] long[] usage);

        /// <summary>User + system CPU time of a process, from /proc/PID/stat (clock ticks of 10 ms); zero when unavailable.</summary>
        public static TimeSpan CpuTime(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based).
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                return TimeSpan.FromMilliseconds(ticks * 10);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return TimeSpan.Zero;
            }
        }

        /// <summary>A field of /proc/PID/status in kB (0 when unavailable).</summary>
        public static double ReadKb(int pid, string field)
        {
            try
            {
                var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
                return line is null ? 0 : double.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return 0;
            }
            catch (UnauthorizedAccessException)
            {
                return 0;
            }
        }
    }
}
