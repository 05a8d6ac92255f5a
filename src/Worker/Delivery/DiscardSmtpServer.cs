using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// An SMTP server on the IPv4 loopback, on a port of its own, that accepts every message and keeps
/// nothing: what <see cref="DeliveryWarmUp"/> sends to, so warming the delivery path mails no one.
/// It speaks just enough ESMTP for MailKit's client as the engine uses it (EHLO with PIPELINING and
/// 8BITMIME, MAIL, RCPT, DATA, RSET, NOOP, QUIT); anything else is answered 502.
/// </summary>
internal sealed class DiscardSmtpServer : IAsyncDisposable
{
    /// <summary>A command line or a line of a message longer than this closes the connection
    /// (SMTP allows 1,000 bytes for either).</summary>
    private const int BufferSize = 64 * 1024;

    private static readonly byte[] Greeting = "220 localhost ESMTP ready to discard\r\n"u8.ToArray();
    private static readonly byte[] Extensions = "250-localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"u8.ToArray();
    private static readonly byte[] Ok = "250 2.0.0 Ok\r\n"u8.ToArray();
    private static readonly byte[] StartData = "354 End data with <CR><LF>.<CR><LF>\r\n"u8.ToArray();
    private static readonly byte[] Discarded = "250 2.0.0 Ok: discarded\r\n"u8.ToArray();
    private static readonly byte[] Bye = "221 2.0.0 Bye\r\n"u8.ToArray();
    private static readonly byte[] Unknown = "502 5.5.2 Command not recognised\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Task> _sessions = [];
    private int _messages;

    private DiscardSmtpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Messages accepted (and dropped) so far.</summary>
    public int Messages => Volatile.Read(ref _messages);

    public static DiscardSmtpServer Start() => new();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_sessions)
                {
                    _sessions.Add(ServeAsync(socket));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        socket.NoDelay = true;
        try
        {
            await socket.SendAsync(Greeting, _stop.Token);
            var buffer = new byte[BufferSize];
            var replies = new List<byte[]>();
            int start = 0, end = 0;
            var inData = false;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(end), _stop.Token);
                if (read == 0)
                {
                    return;
                }
                end += read;
                var quit = false;
                // Every complete line in the buffer: commands are answered in order (a pipelining
                // client sends several at once); a message's lines are skipped up to the lone ".".
                while (!quit && buffer.AsSpan(start, end - start).IndexOf("\r\n"u8) is var length and >= 0)
                {
                    var line = buffer.AsSpan(start, length);
                    start += length + 2;
                    if (inData)
                    {
                        if (line.SequenceEqual("."u8))
                        {
                            inData = false;
                            Interlocked.Increment(ref _messages);
                            replies.Add(Discarded);
                        }
                        continue;
                    }
                    var verb = line.Length >= 4 ? Encoding.ASCII.GetString(line[..4]).ToUpperInvariant() : "";
                    switch (verb)
                    {
                        case "EHLO":
                            replies.Add(Extensions);
                            break;
                        case "HELO" or "MAIL" or "RCPT" or "RSET" or "NOOP":
                            replies.Add(Ok);
                            break;
                        case "DATA":
                            inData = true;
                            replies.Add(StartData);
                            break;
                        case "QUIT":
                            replies.Add(Bye);
                            quit = true;
                            break;
                        default:
                            replies.Add(Unknown);
                            break;
                    }
                }
                foreach (var reply in replies)
                {
                    await socket.SendAsync(reply, _stop.Token);
                }
                replies.Clear();
                if (quit)
                {
                    return;
                }
                if (start == end)
                {
                    start = end = 0;
                }
                else if (end == buffer.Length)
                {
                    if (start == 0)
                    {
                        return; // a line longer than the buffer: not a client this server serves
                    }
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    (start, end) = (0, end - start);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client went away, or the server is stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }
        await Task.WhenAll(sessions);
        _stop.Dispose();
    }
}
