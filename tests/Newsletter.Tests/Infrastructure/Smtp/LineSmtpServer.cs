using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Newsletter.Tests.Infrastructure.Smtp;

/// <summary>
/// A raw SMTP server on 127.0.0.1 for tests of the conversation itself: it records every command
/// line with how many replies it had sent on that connection when the line arrived, so a test can
/// tell which commands a client sent without waiting for answers (pipelining), and it answers from
/// settable rules, including the ones the SmtpServer package cannot script (DATA refused, DATA
/// accepted after every recipient was refused).
/// </summary>
/// <remarks>
/// The server reads what has arrived, answers every complete line of it in order, and only then
/// sends those answers: commands that arrive together were sent together.
/// </remarks>
public sealed class LineSmtpServer : IAsyncDisposable
{
    /// <summary>One command line; <paramref name="RepliesBefore"/> counts the replies the server had
    /// sent on that connection (greeting included) when the line arrived.</summary>
    public sealed record Command(int Connection, string Line, int RepliesBefore);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly List<Command> _commands = [];
    private readonly List<string> _messages = [];
    private readonly List<string> _unfinished = [];
    private int _connections;
    private int _transactions;

    private LineSmtpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public static LineSmtpServer Start(bool pipelining = true, bool auth = false) => new() { Pipelining = pipelining, Auth = auth };

    public int Port { get; }

    /// <summary>Whether EHLO advertises AUTH PLAIN LOGIN (with no STARTTLS: the server tests never have TLS); any AUTH is accepted.</summary>
    public bool Auth { get; private init; }

    /// <summary>Whether EHLO advertises PIPELINING.</summary>
    public bool Pipelining { get; private init; }

    /// <summary>The reply to RCPT TO for an address (default: accepted).</summary>
    public Func<string, string> RcptReply { get; set; } = _ => "250 2.1.5 Ok";

    /// <summary>The reply to DATA in the n-th transaction (from 1) that has a recipient (default: go ahead).</summary>
    public Func<int, string> DataReply { get; set; } = _ => "354 End data with <CR><LF>.<CR><LF>";

    /// <summary>The reply to DATA when every recipient was refused: RFC 2920 says 554; a careless
    /// server might still say 354.</summary>
    public string DataWithoutRecipients { get; set; } = "554 5.5.1 Error: no valid recipients";

    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<Command> Commands
    {
        get
        {
            lock (_commands)
            {
                return [.. _commands];
            }
        }
    }

    /// <summary>Each accepted message's content, dot-stuffing undone, lines joined with CRLF.</summary>
    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_commands)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Content of messages whose connection closed before their final dot.</summary>
    public IReadOnlyList<string> Unfinished
    {
        get
        {
            lock (_commands)
            {
                return [.. _unfinished];
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _sessions.Add(ServeAsync(socket, Interlocked.Increment(ref _connections)));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped; a listener stopped between two accepts says "not listening" instead.
        }
    }

    private async Task ServeAsync(Socket socket, int connection)
    {
        using var _ = socket;
        socket.NoDelay = true;
        var pending = new StringBuilder();
        var replies = new StringBuilder("220 localhost ESMTP test server\r\n");
        var sent = 0;
        StringBuilder? content = null;
        var recipients = 0;
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                if (replies.Length > 0)
                {
                    var text = replies.ToString();
                    await socket.SendAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
                    sent += text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Count(l => l.Length > 3 && l[3] == ' ');
                    replies.Clear();
                }
                var read = await socket.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }
                pending.Append(Encoding.Latin1.GetString(buffer, 0, read));
                var repliesBefore = sent;
                var quit = false;
                while (!quit && pending.ToString().IndexOf("\r\n", StringComparison.Ordinal) is var end and >= 0)
                {
                    var line = pending.ToString(0, end);
                    pending.Remove(0, end + 2);
                    if (content is not null)
                    {
                        if (line == ".")
                        {
                            lock (_commands)
                            {
                                _messages.Add(content.ToString());
                            }
                            content = null;
                            replies.Append("250 2.0.0 Ok: queued\r\n");
                        }
                        else
                        {
                            content.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n");
                        }
                        continue;
                    }
                    lock (_commands)
                    {
                        _commands.Add(new Command(connection, line, repliesBefore));
                    }
                    var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO":
                            replies.Append("250-localhost\r\n").Append(Pipelining ? "250-PIPELINING\r\n" : "").Append(Auth ? "250-AUTH PLAIN LOGIN\r\n" : "")
                                .Append("250 8BITMIME\r\n");
                            break;
                        case "AUTH":
                            replies.Append("235 2.7.0 Authentication successful\r\n");
                            break;
                        case "MAIL":
                            recipients = 0;
                            replies.Append("250 2.1.0 Ok\r\n");
                            break;
                        case "RCPT":
                            var reply = RcptReply(line[(line.IndexOf('<') + 1)..line.IndexOf('>')]);
                            recipients += reply.StartsWith('2') ? 1 : 0;
                            replies.Append(reply).Append("\r\n");
                            break;
                        case "DATA":
                            var answer = recipients == 0 ? DataWithoutRecipients : DataReply(Interlocked.Increment(ref _transactions));
                            content = answer.StartsWith("354", StringComparison.Ordinal) ? new StringBuilder() : null;
                            replies.Append(answer).Append("\r\n");
                            break;
                        case "RSET" or "NOOP":
                            recipients = 0;
                            replies.Append("250 2.0.0 Ok\r\n");
                            break;
                        case "QUIT":
                            replies.Append("221 2.0.0 Bye\r\n");
                            quit = true;
                            break;
                        default:
                            replies.Append("502 5.5.2 Command not recognised\r\n");
                            break;
                    }
                }
                if (quit)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(replies.ToString()), _stop.Token);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client went away, or the server is stopping.
        }
        if (content is not null)
        {
            lock (_commands)
            {
                _unfinished.Add(content.ToString());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_sessions);
        _stop.Dispose();
    }
}
