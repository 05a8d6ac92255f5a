using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Newsletter.Tests.Infrastructure;

/// <summary>The built <c>newsletter</c> app (the newsletter.dll beside the tests) run with <c>dotnet</c> as a
/// child process in the test's folder, configured through environment variables from the test's settings.
/// A service it starts listens on a free loopback port.</summary>
internal sealed class NewsletterProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _standardOutput = new();
    private readonly StringBuilder _standardError = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private NewsletterProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Both streams, each line stamped with the seconds since start (for failure messages).</summary>
    public string Output => Read(_output);

    public string StandardOutput => Read(_standardOutput);

    public string StandardError => Read(_standardError);

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet newsletter.dll ARGS…</c>; <paramref name="environment"/> is added after the test's settings.</summary>
    public static NewsletterProcess Start(TestApp app, string[] args, params (string Key, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = app.Directory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "newsletter.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in app.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["Urls"] = "http://127.0.0.1:0";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        var child = new NewsletterProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, child._standardOutput);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, child._standardError);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs <c>dotnet newsletter.dll ARGS…</c> to its end and returns what it printed.</summary>
    public static async Task<CliResult> RunAsync(TestApp app, string[] args, params (string Key, string Value)[] environment)
    {
        using var process = Start(app, args, environment);
        // A guard against a service that started after all, not a timing assertion.
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return new CliResult(exitCode, process.StandardOutput, process.StandardError);
    }

    private void Append(string? line, StringBuilder stream)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            stream.AppendLine(line);
            _output.Append(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:0.00}s] ").AppendLine(line);
        }
    }

    private string Read(StringBuilder stream)
    {
        lock (_gate)
        {
            return stream.ToString();
        }
    }

    /// <summary>Waits until the process printed <paramref name="text"/> or exited.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        try
        {
            await Poll.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal) || _process.HasExited,
                $"the child process printed '{text}'", timeout);
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            Assert.Fail($"{ex.Message}; it printed:\n{Output}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // With asynchronous reads, this also waits for the end of both streams.
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"the child process did not finish within {timeout}:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as <c>systemctl stop</c> or <c>docker stop</c> sends it: asks for a graceful stop.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", $"{_process.Id}"]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: no shutdown at all.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        if (Environment.GetEnvironmentVariable("NEWSLETTER_TEST_LOGS") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"child-{_process.Id}.log"), Output);
        }
        _process.Dispose();
    }
}
