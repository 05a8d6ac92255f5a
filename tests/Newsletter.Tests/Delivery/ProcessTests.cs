using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The built <c>newsletter</c> executable as separate processes on one SQLite file: one killed
/// mid-send and another finishing the job; two sharing a send.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed partial class ProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_sender_killed_mid_send_leaves_nobody_out_once_a_second_one_runs_and_duplicates_stay_within_one_per_connection()
    {
        const int recipients = 200;
        const int connections = 4;
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Connections", $"{connections}")
            .Set("Delivery:MessagesPerSecond", "100")
            .Set("Delivery:LeaseDuration", "00:00:02"));
        await world.AddSubscribersAsync(recipients);
        var publicationId = await world.PublishAsync();

        using (var first = NewsletterProcess.Start(world.App, "publications", "send", $"{publicationId}"))
        {
            await world.Smtp.WaitForMessagesAsync(40, Patience);
            first.Kill(); // SIGKILL: no shutdown, claims held, possibly a message mid-flight
        }
        var beforeSecond = world.Smtp.Messages.Count;
        Assert.True(beforeSecond < recipients, "the first sender was killed mid-send");

        world.App.Set("Delivery:MessagesPerSecond", null);
        using var second = NewsletterProcess.Start(world.App, "publications", "send", $"{publicationId}");
        Assert.True(await second.WaitForExitAsync(Patience) == 0, second.Output);

        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, recipients), i => Assert.True(received.ContainsKey(DeliveryWorld.Email(i)), $"reader{i} got the issue"));
        Assert.InRange(world.Smtp.Messages.Count - recipients, 0, connections);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Sent, d.Status));
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    [Fact]
    public async Task Two_processes_sharing_one_send_on_one_SQLite_file_mail_everyone_exactly_once()
    {
        const int recipients = 300;
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Connections", "2")
            .Set("Delivery:MessagesPerSecond", "100")
            .Set("Delivery:ReconnectDelay", "00:00:00.200"));
        await world.AddSubscribersAsync(recipients);
        var publicationId = await world.PublishAsync();
        // The server stays down until both senders are up and trying, so that they share the work.
        await world.Smtp.StopAsync();

        using var a = NewsletterProcess.Start(world.App, "publications", "send", $"{publicationId}");
        using var b = NewsletterProcess.Start(world.App, "publications", "send", $"{publicationId}");
        await a.WaitForOutputAsync("cannot open an SMTP session", Patience);
        await b.WaitForOutputAsync("cannot open an SMTP session", Patience);
        await world.Smtp.RestartAsync();

        Assert.True(await a.WaitForExitAsync(Patience) == 0, a.Output);
        Assert.True(await b.WaitForExitAsync(Patience) == 0, b.Output);

        var received = world.ReceivedCounts();
        Assert.Equal(recipients, received.Count);
        Assert.All(received.Values, count => Assert.Equal(1, count));
        Assert.Equal(recipients, world.Smtp.Messages.Count);
        var sentByA = SentByThisProcess(a.Output);
        var sentByB = SentByThisProcess(b.Output);
        Assert.Equal(recipients, sentByA + sentByB);
        Assert.True(sentByA > 0 && sentByB > 0, $"both processes sent: {sentByA} and {sentByB}");
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    private static int SentByThisProcess(string output)
    {
        var match = SentHere().Match(output);
        Assert.True(match.Success, output);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"This process sent (\d+)\.")]
    private static partial Regex SentHere();
}

/// <summary>The built <c>newsletter</c> app (src/Worker/bin/…/newsletter.dll) run with <c>dotnet</c> as a child
/// process, configured through environment variables from the test's settings.</summary>
internal sealed class NewsletterProcess : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private NewsletterProcess(Process process)
    {
        _process = process;
    }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public static string AppPath => Path.Combine(TestData.RepositoryRoot, "src", "Worker", "bin", Configuration, "net10.0", "newsletter.dll");

    public static NewsletterProcess Start(TestApp app, params string[] args)
    {
        Assert.True(File.Exists(AppPath), $"the app is not built at {AppPath}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = app.Directory,
        };
        start.ArgumentList.Add(AppPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in app.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        // The test's host has already migrated the file; children start quicker without checking again.
        start.Environment["Database__MigrateOnStart"] = "false";
        var process = new Process { StartInfo = start };
        var child = new NewsletterProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.Append(System.Globalization.CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:0.00}s] ").AppendLine(line);
        }
    }

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
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"the child process did not finish within {timeout}:\n{Output}");
        }
        return _process.ExitCode;
    }

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
