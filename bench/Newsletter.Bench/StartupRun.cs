using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Newsletter.Bench;

/// <summary>
/// The start-up benchmark (scripts/bench startup): wall time of <c>newsletter editions</c>,
/// <c>issues list</c> and <c>subscribers list</c>, and of process start → first 200 from <c>/healthz</c>,
/// for the published command (<c>--published DIR</c>) against the framework-dependent build output
/// without ReadyToRun (<c>--baseline DIR</c>, run as <c>dotnet newsletter.dll</c>), alternated run by run
/// on the same small database.
/// </summary>
internal static class StartupRun
{
    private static readonly string[][] Commands = [["editions"], ["issues", "list"], ["subscribers", "list"]];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        // Full paths: the commands run in the work directory.
        // A composite image beside the app marks scripts/install --self-contained.
        var composite = File.Exists(Path.Combine(o.Published, "newsletter.r2r.dll"));
        var published = new Variant(composite ? "published self-contained (composite ReadyToRun)" : "published (ReadyToRun)",
            Path.GetFullPath(Path.Combine(o.Published, "newsletter")), null);
        var baseline = new Variant("build output (no ReadyToRun)", "dotnet", Path.GetFullPath(Path.Combine(o.Baseline, "newsletter.dll")));
        var work = Path.Combine(o.Work, "startup");
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
        Directory.CreateDirectory(work);
        var machine = Machine.Describe();
        Console.WriteLine($"Machine: {machine}");

        // A small database, as an editor has it: three subscribers, two queued issues.
        var samples = Path.Combine(Machine.RepositoryRoot(), "samples", "issues");
        for (var i = 1; i <= 3; i++)
        {
            await published.RunAsync(work, ["subscribers", "add", $"reader{i}@example.org", "--name", $"Reader {i}", "--confirmed"]);
        }
        await published.RunAsync(work, ["issues", "queue", Path.Combine(samples, "weekly-tip.md")]);
        await published.RunAsync(work, ["issues", "queue", Path.Combine(samples, "weekly-fact.md")]);

        var times = new Dictionary<(string What, Variant Variant), List<double>>();
        void Add(string what, Variant v, double ms) => (times.TryGetValue((what, v), out var l) ? l : times[(what, v)] = []).Add(ms);
        for (var run = 1; run <= o.Runs; run++)
        {
            // Alternated, so both see the same minute of a shared machine.
            foreach (var v in run % 2 == 1 ? new[] { published, baseline } : [baseline, published])
            {
                foreach (var command in Commands)
                {
                    Add(string.Join(' ', command), v, await v.RunAsync(work, command));
                }
                Add("service: start → /healthz 200", v, await v.HealthzAsync(work, o.Port));
            }
            Console.WriteLine($"run {run}/{o.Runs} done");
        }

        var b = new StringBuilder();
        b.AppendLine($"| what | {published.Name}: median / max | {baseline.Name}: median / max |");
        b.AppendLine("|---|---:|---:|");
        foreach (var what in Commands.Select(c => string.Join(' ', c)).Append("service: start → /healthz 200"))
        {
            b.AppendLine($"| `{what}` | {Cell(times[(what, published)])} | {Cell(times[(what, baseline)])} |");
        }
        b.AppendLine();
        b.AppendLine($"Machine: {machine}; {o.Runs} runs of each, alternated.");
        await Output.ReportAsync(b.ToString(), o.Markdown);
        return 0;
    }

    private static string Cell(List<double> ms)
    {
        var sorted = ms.Order().ToList();
        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{median / 1000:0.00} s / {sorted[^1] / 1000:0.00} s");
    }

    private sealed record Variant(string Name, string FileName, string? Dll)
    {
        private ProcessStartInfo Start(string work, IEnumerable<string> args)
        {
            var start = new ProcessStartInfo(FileName)
            {
                UseShellExecute = false, WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            if (Dll is not null)
            {
                start.ArgumentList.Add(Dll);
            }
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            return start;
        }

        /// <summary>Runs one command to its end; returns its wall time in ms (it must exit 0).</summary>
        public async Task<double> RunAsync(string work, string[] args)
        {
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(Start(work, args))!;
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{Name} {string.Join(' ', args)} exited {p.ExitCode}: {await output}{await error}");
            }
            return elapsed;
        }

        /// <summary>Starts the service and polls /healthz every 10 ms; returns ms from the start to the first 200.</summary>
        public async Task<double> HealthzAsync(string work, int port)
        {
            var start = Start(work, []);
            start.Environment["Urls"] = $"http://127.0.0.1:{port}";
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(start)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            try
            {
                while (clock.Elapsed < TimeSpan.FromMinutes(1))
                {
                    try
                    {
                        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                        if (response.IsSuccessStatusCode)
                        {
                            return clock.Elapsed.TotalMilliseconds;
                        }
                    }
                    catch (HttpRequestException ex) when (ex.InnerException is SocketException)
                    {
                        // Not listening yet.
                    }
                    if (p.HasExited)
                    {
                        throw new InvalidOperationException($"{Name}: the service exited {p.ExitCode} before answering");
                    }
                    await Task.Delay(10);
                }
                throw new TimeoutException($"{Name}: no 200 from /healthz within a minute");
            }
            finally
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }
        }
    }
}
