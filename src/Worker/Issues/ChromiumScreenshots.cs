using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Newsletter.Worker.Issues;

/// <summary>One screenshot to take: a viewport width and a colour scheme.</summary>
public sealed record ScreenshotVariant(int Width, bool Dark)
{
    public string Name => $"{Width}-{(Dark ? "dark" : "light")}";

    /// <summary>Desktop (600 px, the email's own width) and phone (375 px), each light and dark.</summary>
    public static IReadOnlyList<ScreenshotVariant> Standard { get; } =
        [new(600, false), new(600, true), new(375, false), new(375, true)];
}

/// <summary>
/// Full-page PNG screenshots of an HTML file with the machine's own headless Chromium, driven over
/// the DevTools protocol (a WebSocket; no extra package, no browser download): the viewport width
/// and <c>prefers-color-scheme</c> are emulated exactly, and the page is captured at its full height.
/// </summary>
public sealed class ChromiumScreenshots(string executable)
{
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0",
    ];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Chromium on this machine: <paramref name="configured"/> when given, else the first of the
    /// usual names found on PATH. Null when there is none.</summary>
    public static string? Find(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }
        var names = new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome" };
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => names.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Takes each variant of <paramref name="htmlFile"/> and writes <c>{prefix}-{width}-{light|dark}.png</c>
    /// into <paramref name="outputDirectory"/>; returns the files written.</summary>
    public async Task<IReadOnlyList<string>> CaptureAsync(
        string htmlFile, string outputDirectory, string prefix, IReadOnlyList<ScreenshotVariant> variants,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        var profile = Directory.CreateTempSubdirectory("newsletter-chromium-");
        using var process = Start(profile.FullName);
        try
        {
            var endpoint = await DevToolsEndpointAsync(process, cancellationToken);
            await using var browser = await DevTools.ConnectAsync(endpoint, cancellationToken);
            var target = await browser.SendAsync(null, "Target.createTarget", new JsonObject { ["url"] = "about:blank" }, cancellationToken);
            var attached = await browser.SendAsync(null, "Target.attachToTarget",
                new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, cancellationToken);
            var session = attached["sessionId"]!.GetValue<string>();
            await browser.SendAsync(session, "Page.enable", new JsonObject(), cancellationToken);

            var url = new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri;
            var written = new List<string>();
            foreach (var variant in variants)
            {
                await browser.SendAsync(session, "Emulation.setEmulatedMedia", new JsonObject
                {
                    ["features"] = new JsonArray(new JsonObject { ["name"] = "prefers-color-scheme", ["value"] = variant.Dark ? "dark" : "light" }),
                }, cancellationToken);
                await SetViewportAsync(browser, session, variant.Width, 800, cancellationToken);
                var loaded = browser.WaitForEventAsync(session, "Page.loadEventFired");
                await browser.SendAsync(session, "Page.navigate", new JsonObject { ["url"] = url }, cancellationToken);
                // An image that cannot be fetched (no network) must not hold the screenshot up for long.
                await Task.WhenAny(loaded, Task.Delay(PageTimeout, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();

                var height = await browser.SendAsync(session, "Runtime.evaluate", new JsonObject
                {
                    ["expression"] = "Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0))",
                    ["returnByValue"] = true,
                }, cancellationToken);
                var pageHeight = Math.Clamp(height["result"]?["value"]?.GetValue<int>() ?? 800, 100, 16_000);
                await SetViewportAsync(browser, session, variant.Width, pageHeight, cancellationToken);
                var shot = await browser.SendAsync(session, "Page.captureScreenshot", new JsonObject { ["format"] = "png" }, cancellationToken);
                var file = Path.Combine(outputDirectory, $"{prefix}-{variant.Name}.png");
                await File.WriteAllBytesAsync(file, Convert.FromBase64String(shot["data"]!.GetValue<string>()), cancellationToken);
                written.Add(file);
            }
            try
            {
                await browser.SendAsync(null, "Browser.close", new JsonObject(), cancellationToken);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or InvalidOperationException)
            {
                // The browser may drop the socket while closing.
            }
            return written;
        }
        finally
        {
            await StopAsync(process);
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static Task SetViewportAsync(DevTools browser, string session, int width, int height, CancellationToken cancellationToken) =>
        browser.SendAsync(session, "Emulation.setDeviceMetricsOverride", new JsonObject
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = width < 600,
        }, cancellationToken);

    private Process Start(string profileDirectory)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var flag in Flags)
        {
            info.ArgumentList.Add(flag);
        }
        info.ArgumentList.Add($"--user-data-dir={profileDirectory}");
        info.ArgumentList.Add("about:blank");
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {executable}");
    }

    /// <summary>Chromium says where its DevTools socket listens on its first lines of stderr.</summary>
    private static async Task<Uri> DevToolsEndpointAsync(Process process, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var seen = new StringBuilder();
        try
        {
            while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
            {
                const string marker = "DevTools listening on ";
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    // Keep draining stderr so Chromium never blocks on a full pipe.
                    _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                    return new Uri(line[(at + marker.Length)..].Trim());
                }
                seen.AppendLine(line);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Chromium did not start within {StartTimeout.TotalSeconds:0} s:\n{seen}");
        }
        throw new InvalidOperationException($"Chromium exited before it was ready:\n{seen}");
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>A minimal DevTools protocol client: numbered commands, their replies, and awaited events.</summary>
    private sealed class DevTools : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _events = new();
        private readonly SemaphoreSlim _send = new(1, 1);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reader;
        private int _nextId;

        private DevTools(ClientWebSocket socket)
        {
            _socket = socket;
            _reader = ReadAsync();
        }

        public static async Task<DevTools> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new DevTools(socket);
        }

        public Task WaitForEventAsync(string session, string method) =>
            _events.GetOrAdd($"{session}|{method}", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public async Task<JsonObject> SendAsync(string? session, string method, JsonObject parameters, CancellationToken cancellationToken)
        {
            var id = Interlocked.Increment(ref _nextId);
            var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = reply;
            var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
            if (session is not null)
            {
                message["sessionId"] = session;
            }
            await _send.WaitAsync(cancellationToken);
            try
            {
                await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
            }
            finally
            {
                _send.Release();
            }
            return await reply.Task.WaitAsync(PageTimeout, cancellationToken);
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[1 << 16];
            var message = new MemoryStream();
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }
                    var json = JsonNode.Parse(message.ToArray()) as JsonObject;
                    message.SetLength(0);
                    if (json is null)
                    {
                        continue;
                    }
                    if (json["id"] is { } idNode && _pending.TryRemove(idNode.GetValue<int>(), out var reply))
                    {
                        if (json["error"] is { } error)
                        {
                            reply.TrySetException(new InvalidOperationException($"Chromium: {error.ToJsonString()}"));
                        }
                        else
                        {
                            reply.TrySetResult(json["result"] as JsonObject ?? new JsonObject());
                        }
                    }
                    else if (json["method"]?.GetValue<string>() is { } method)
                    {
                        var key = $"{json["sessionId"]?.GetValue<string>()}|{method}";
                        if (_events.TryRemove(key, out var waiter))
                        {
                            waiter.TrySetResult();
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or JsonException or IOException)
            {
                // The browser closed; pending commands fail below.
            }
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("the connection to Chromium closed"));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _reader;
            }
            catch (OperationCanceledException)
            {
            }
            _socket.Dispose();
            _stop.Dispose();
            _send.Dispose();
        }
    }
}
