using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Newsletter.Tests.Infrastructure;

/// <summary>What SpamAssassin made of one message: its score, the rules that fired, and its whole report.</summary>
public sealed record SpamReport(double Score, IReadOnlyList<string> Rules, string Report)
{
    public override string ToString() =>
        $"score {Score.ToString("0.0", CultureInfo.InvariantCulture)}, rules: {(Rules.Count == 0 ? "none" : string.Join(", ", Rules))}\n{Report}";
}

/// <summary>
/// Debian's spamassassin (.ci/run installs it) run once per message with its local rules only
/// (<c>-L</c>: no DNS or network tests), on the message's bytes. Each run gets its own temporary home
/// and preferences file, so it works as root or an ordinary user, in parallel, and leaves nothing behind.
/// </summary>
public static partial class SpamAssassin
{
    public const string ExecutablePath = "/usr/bin/spamassassin";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<SpamReport> CheckAsync(byte[] message)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: the spam-score tests need Debian's spamassassin (.ci/run installs it).");
        }

        var home = Directory.CreateTempSubdirectory("spamassassin-").FullName;
        try
        {
            var start = new ProcessStartInfo(ExecutablePath, ["-L", "-t", "-p", Path.Combine(home, "user_prefs")])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = home,
            };
            // Its Bayes database and state go under HOME; the preferences file is created on first use.
            start.Environment["HOME"] = home;
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{ExecutablePath} did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.StandardInput.BaseStream.WriteAsync(message);
            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"spamassassin took longer than {Timeout.TotalSeconds:0} s\n{await error}");
            }
            var report = await output;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"spamassassin exited with {process.ExitCode}\n{await error}\n{report}");
            }
            return Parse(report);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>Reads the X-Spam-Status header SpamAssassin added: <c>No, score=0.7 required=5.0 tests=A,B autolearn=…</c>
    /// (folded over several lines), and keeps the report's analysis table for the reader of a failure.</summary>
    public static SpamReport Parse(string output)
    {
        var unfolded = Regex.Replace(output, @"\r?\n[ \t]+", " ");
        var status = StatusHeader().Match(unfolded);
        if (!status.Success)
        {
            throw new InvalidOperationException($"no X-Spam-Status header in spamassassin's output:\n{output}");
        }
        var score = double.Parse(status.Groups["score"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        var tests = status.Groups["tests"].Value;
        string[] rules = tests == "none" ? [] : tests.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var table = output.IndexOf("Content analysis details:", StringComparison.Ordinal);
        return new SpamReport(score, rules, table < 0 ? output : output[table..].TrimEnd());
    }

    [GeneratedRegex(@"^X-Spam-Status: \w+, score=(?<score>-?[0-9.]+) required=[-0-9.]+ tests=(?<tests>\S*)", RegexOptions.Multiline)]
    private static partial Regex StatusHeader();
}
