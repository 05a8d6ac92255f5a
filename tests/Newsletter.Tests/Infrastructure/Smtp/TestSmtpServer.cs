using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using SmtpServerHost = SmtpServer.SmtpServer;
using SmtpServiceProvider = SmtpServer.ComponentModel.ServiceProvider;

namespace Newsletter.Tests.Infrastructure.Smtp;

/// <summary>
/// A real SMTP server on 127.0.0.1 for tests, built on the SmtpServer package: captures every
/// accepted message, answers recipients from a <see cref="SmtpScript"/>, can drop a connection
/// mid-batch, and can be stopped and started again on the same port.
/// </summary>
/// <remarks>
/// <para>Accepted sockets have <c>NoDelay</c> set (<see cref="NoDelayEndpointListenerFactory"/>).
/// Clients should set it too: connect a <c>Socket { NoDelay = true }</c> and hand it to MailKit
/// (<see cref="TestSmtpClient"/> does this).</para>
/// <para>Limitations of SmtpServer 11.1.0's public API, and what this class does instead:</para>
/// <list type="bullet">
/// <item>A mailbox filter can only say yes/no; a specific RCPT reply is sent by throwing
/// <see cref="SmtpResponseException"/>. SmtpServer treats that as a failed command and appends
/// <c>", N retry(ies) remaining."</c> to the reply text. Code and enhanced status are exactly as
/// scripted; only the free text grows a suffix. Failed commands also count against
/// <c>MaxRetryCount</c>, which is set high (<see cref="MaxConsecutiveFailedCommands"/>) so a
/// script never ends a session by accident.</item>
/// <item>There is no hook to close a connection "after this reply" other than the per-session
/// <c>CommandExecuted</c> event, which SmtpServer raises after the reply is flushed; scripted
/// closes after a successful DATA use it. A closing reply (421) at RCPT uses SmtpServer's own
/// quit path, which sends the scripted text unchanged (no retry suffix) and ends the session.</item>
/// <item>There is no public way to reject the greeting or <c>MAIL FROM</c> with a custom code;
/// scripts act on recipients (RCPT or end of DATA) only.</item>
/// <item>STARTTLS/AUTH are not offered.</item>
/// <item><see cref="StopAsync"/> is a crash-like stop (connections reset, listener closed), not a
/// polite 421 shutdown. <see cref="RestartAsync"/> rebinds the same port; if another process took
/// it in between, it throws rather than silently moving.</item>
/// </list>
/// </remarks>
public sealed class TestSmtpServer : IAsyncDisposable
{
    /// <summary>SmtpServer's <c>MaxRetryCount</c>: consecutive failed commands before it ends a session.</summary>
    public const int MaxConsecutiveFailedCommands = 1000;

    const string ConnectionKey = "TestSmtpServer:Connection";
    const string PendingDataReplyKey = "TestSmtpServer:PendingDataReply";
    const string AfterReplyActionKey = "TestSmtpServer:AfterReplyAction";

    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    readonly object _gate = new();
    readonly List<ReceivedMessage> _messages = [];
    readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    readonly List<Exception> _scriptErrors = [];
    readonly ConcurrentDictionary<string, int> _rcptAttempts = new(StringComparer.OrdinalIgnoreCase);
    readonly ConcurrentDictionary<Connection, byte> _openConnections = new();
    readonly SemaphoreSlim _lifecycle = new(1, 1);

    SmtpScript _script = SmtpScript.AcceptAll;
    int _dropAtMessageCount; // 0 = disarmed; guarded by _gate
    DropPoint _dropPoint;     // guarded by _gate
    int _connectionCount;
    Running? _running;
    bool _disposed;

    TestSmtpServer(SmtpScript script)
    {
        Script = script; // arms the script's drop fault, if any: it differs from AcceptAll's none
    }

    /// <summary>Always the IPv4 loopback address.</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>The port chosen at the first start; restarts reuse it.</summary>
    public int Port { get; private set; }

    public bool IsRunning => Volatile.Read(ref _running) is not null;

    /// <summary>
    /// The current script. Assigning takes effect from the next command the server handles. If the
    /// new script's drop fault (<see cref="SmtpScript.DropConnectionAfterMessages"/>, <see cref="SmtpScript.DropPoint"/>)
    /// differs from the old one's, it is armed afresh; an unchanged one (say, after
    /// <c>Script = Script with { OnRcptTo = … }</c>) is not re-armed once it has fired.
    /// </summary>
    public SmtpScript Script
    {
        get => Volatile.Read(ref _script);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var previous = Interlocked.Exchange(ref _script, value);
            var rearm = !ReferenceEquals(previous, value)
                && (previous.DropConnectionAfterMessages != value.DropConnectionAfterMessages || previous.DropPoint != value.DropPoint);
            if (value.DropConnectionAfterMessages is int n && rearm)
            {
                DropConnectionAfterMessages(n, value.DropPoint);
            }
        }
    }

    /// <summary>A snapshot of every message accepted so far, in acceptance order.</summary>
    public IReadOnlyList<ReceivedMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>How many TCP connections the server has accepted since it was created (restarts included).</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>How many connections are open now (a session that ended, by QUIT or a drop, no longer counts).</summary>
    public int OpenConnections => _openConnections.Count;

    /// <summary>Exceptions thrown by <see cref="SmtpScript.OnRcptTo"/> (each was answered 451 4.3.0).</summary>
    public IReadOnlyList<Exception> ScriptErrors
    {
        get
        {
            lock (_gate)
            {
                return [.. _scriptErrors];
            }
        }
    }

    /// <summary>How many <c>RCPT TO</c> the server has seen for <paramref name="address"/> (case-insensitive).</summary>
    public int RcptAttempts(string address) => _rcptAttempts.TryGetValue(address, out var n) ? n : 0;

    /// <summary>Starts a server on 127.0.0.1 on a free port; returns once it is accepting connections.</summary>
    public static async Task<TestSmtpServer> StartAsync(SmtpScript? script = null)
    {
        var server = new TestSmtpServer(script ?? SmtpScript.AcceptAll);
        try
        {
            await server.StartCoreAsync(port: 0).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return server;
    }

    /// <summary>
    /// One-shot fault: once <paramref name="messageCount"/> messages have been accepted in total
    /// (since the server was created), reset the connection that delivered the one that reached
    /// the count. If the count is already reached, the next accepted message triggers it.
    /// </summary>
    public void DropConnectionAfterMessages(int messageCount, DropPoint dropPoint = DropPoint.AfterReply)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messageCount, 1);
        lock (_gate)
        {
            _dropAtMessageCount = messageCount;
            _dropPoint = dropPoint;
        }
    }

    /// <summary>
    /// Completes once at least <paramref name="count"/> messages have been accepted; throws
    /// <see cref="TimeoutException"/> (with the current count) if that does not happen in time.
    /// </summary>
    public async Task WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_messages.Count >= count)
            {
                return;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            int current;
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Signal == signal);
                current = _messages.Count;
            }

            throw new TimeoutException(
                $"Waited {timeout.TotalSeconds:0.###} s for {count} message(s); the test SMTP server has accepted {current}.");
        }
    }

    /// <summary>
    /// "Server down": resets every open connection and closes the listening socket; the port
    /// refuses connections until <see cref="RestartAsync"/>. Captured messages are kept.
    /// </summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>"Server back": starts listening again on the same <see cref="Port"/> (stopping first if running).</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await StopCoreAsync().ConfigureAwait(false);
            await StartCoreAsync(Port).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }

        lock (_gate)
        {
            foreach (var (_, signal) in _waiters)
            {
                signal.TrySetException(new ObjectDisposedException(nameof(TestSmtpServer)));
            }

            _waiters.Clear();
        }
    }

    async Task StartCoreAsync(int port)
    {
        var bound = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listenerFactory = new NoDelayEndpointListenerFactory(OnAccepted);
        listenerFactory.EndpointStarted += (_, e) => bound.TrySetResult((IPEndPoint)e.LocalEndPoint);

        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .MaxRetryCount(MaxConsecutiveFailedCommands)
            .Build();

        var services = new SmtpServiceProvider();
        services.Add(listenerFactory);
        services.Add(new ScriptedMailboxFilter(this));
        services.Add(new CapturingMessageStore(this));

        var host = new SmtpServerHost(options, services);
        host.SessionCompleted += OnSessionEnded;
        host.SessionFaulted += OnSessionEnded;
        host.SessionCancelled += OnSessionEnded;

        var cancellation = new CancellationTokenSource();
        var hostTask = Task.Run(() => host.StartAsync(cancellation.Token));

        Task first;
        try
        {
            first = await Task.WhenAny(bound.Task, hostTask).WaitAsync(StartTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            listenerFactory.StopListening();
            await cancellation.CancelAsync().ConfigureAwait(false);
            throw new TimeoutException($"The test SMTP server did not start listening on 127.0.0.1:{port} within {StartTimeout}.");
        }

        if (first != bound.Task)
        {
            cancellation.Dispose();
            await hostTask.ConfigureAwait(false); // surfaces the bind failure, e.g. port already in use on restart
            throw new InvalidOperationException("The test SMTP server stopped before it started listening.");
        }

        Port = bound.Task.Result.Port;
        Volatile.Write(ref _running, new Running(listenerFactory, cancellation, hostTask));
    }

    async Task StopCoreAsync()
    {
        var running = Interlocked.Exchange(ref _running, null);
        if (running is null)
        {
            return;
        }

        // Close the door first so nothing new is accepted, then cut what is open. Resetting
        // before cancelling keeps SmtpServer from saying a polite "221 cancelled" first: the
        // client must see a dead server, not a graceful goodbye.
        running.ListenerFactory.StopListening();
        AbortOpenConnections();
        await running.Cancellation.CancelAsync().ConfigureAwait(false);
        AbortOpenConnections();

        try
        {
            await running.HostTask.WaitAsync(StopTimeout).ConfigureAwait(false);
        }
        catch (Exception) when (running.HostTask.IsCompleted)
        {
            // Cancellation and reset sessions fault or cancel the host task; that is the point.
        }
        catch (TimeoutException)
        {
            // A session that ignores cancellation must not hang the test run; its socket is already reset.
        }

        running.Cancellation.Dispose();
    }

    void AbortOpenConnections()
    {
        foreach (var connection in _openConnections.Keys)
        {
            connection.Abort();
            _openConnections.TryRemove(connection, out _);
        }
    }

    void OnAccepted(ISessionContext context, Socket socket)
    {
        var connection = new Connection(Interlocked.Increment(ref _connectionCount), socket);
        context.Properties[ConnectionKey] = connection;
        _openConnections.TryAdd(connection, 0);
        context.CommandExecuted += OnCommandExecuted;
    }

    void OnSessionEnded(object? sender, SessionEventArgs e)
    {
        if (e.Context.Properties.TryGetValue(ConnectionKey, out var value) && value is Connection connection)
        {
            _openConnections.TryRemove(connection, out _);
        }
    }

    // SmtpServer raises CommandExecuted after the command's reply has been flushed: the one place
    // to act "after the client has seen the reply".
    static void OnCommandExecuted(object? sender, SmtpCommandEventArgs e)
    {
        if (e.Context.Properties.Remove(AfterReplyActionKey, out var value) && value is Action<Connection> action
            && e.Context.Properties.TryGetValue(ConnectionKey, out var c) && c is Connection connection)
        {
            action(connection);
        }
    }

    SmtpReplyDecision Decide(string recipient)
    {
        var attempt = _rcptAttempts.AddOrUpdate(recipient, 1, (_, n) => n + 1);
        var onRcptTo = Script.OnRcptTo;
        if (onRcptTo is null)
        {
            return SmtpReplyDecision.Accept;
        }

        try
        {
            return onRcptTo(recipient, attempt) ?? SmtpReplyDecision.Accept;
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _scriptErrors.Add(ex);
            }

            return SmtpReplyDecision.Reply(451, "4.3.0", $"Test script failed: {ex.GetType().Name}");
        }
    }

    /// <summary>Records an accepted message; returns where to drop its connection, if the drop fault fires now.</summary>
    (int Count, DropPoint? Drop) Capture(ReceivedMessage message)
    {
        List<TaskCompletionSource> release = [];
        int count;
        DropPoint? drop = null;
        lock (_gate)
        {
            _messages.Add(message);
            count = _messages.Count;

            if (_dropAtMessageCount > 0 && count >= _dropAtMessageCount)
            {
                drop = _dropPoint;
                _dropAtMessageCount = 0;
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (count >= _waiters[i].Count)
                {
                    release.Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var signal in release)
        {
            signal.TrySetResult();
        }

        return (count, drop);
    }

    static string Address(IMailbox? mailbox)
    {
        if (mailbox is null || (string.IsNullOrEmpty(mailbox.User) && string.IsNullOrEmpty(mailbox.Host)))
        {
            return "";
        }

        return string.IsNullOrEmpty(mailbox.Host) ? mailbox.User : $"{mailbox.User}@{mailbox.Host}";
    }

    static SmtpResponse ToResponse(SmtpReplyDecision decision) =>
        new((SmtpReplyCode)decision.Code, $"{decision.EnhancedStatus} {decision.Text}");

    sealed record Running(NoDelayEndpointListenerFactory ListenerFactory, CancellationTokenSource Cancellation, Task HostTask);

    sealed class Connection(int number, Socket socket)
    {
        public int Number { get; } = number;

        /// <summary>Reset (RST): the peer's next read or write fails at once, as when a server dies.</summary>
        public void Abort()
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
            }
            catch (SocketException)
            {
            }
        }

        /// <summary>Orderly close (FIN) after a final reply such as 421.</summary>
        public void Close()
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>Answers RCPT TO from the script (SmtpServer's mailbox filter hook).</summary>
    sealed class ScriptedMailboxFilter(TestSmtpServer server) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
        {
            // MAIL FROM starts a transaction: forget an end-of-DATA reply left from an abandoned one.
            context.Properties.Remove(PendingDataReplyKey);
            return Task.FromResult(true);
        }

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            var decision = server.Decide(Address(to));
            if (decision.IsAccept)
            {
                return Task.FromResult(true);
            }

            if (decision.Stage == SmtpReplyStage.EndOfData)
            {
                context.Properties.TryAdd(PendingDataReplyKey, decision); // first scripted recipient wins
                return Task.FromResult(true);
            }

            // The only way to send a specific reply from a mailbox filter; see the class remarks.
            throw new SmtpResponseException(ToResponse(decision), decision.CloseConnection);
        }
    }

    /// <summary>Captures accepted messages, or sends the end-of-DATA reply a script asked for.</summary>
    sealed class CapturingMessageStore(TestSmtpServer server) : IMessageStore
    {
        public Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (context.Properties.Remove(PendingDataReplyKey, out var pending) && pending is SmtpReplyDecision rejection)
            {
                if (rejection.CloseConnection)
                {
                    context.Properties[AfterReplyActionKey] = (Action<Connection>)(c => c.Close());
                }

                return Task.FromResult(ToResponse(rejection));
            }

            var raw = buffer.ToArray();
            var message = MimeMessage.Load(new MemoryStream(raw, writable: false), cancellationToken);
            var connection = (Connection)context.Properties[ConnectionKey];
            var received = new ReceivedMessage(
                Address(transaction.From),
                [.. transaction.To.Select(Address)],
                message,
                raw,
                connection.Number);

            var (count, drop) = server.Capture(received);
            switch (drop)
            {
                case DropPoint.BeforeReply:
                    connection.Abort();
                    break;
                case DropPoint.AfterReply:
                    context.Properties[AfterReplyActionKey] = (Action<Connection>)(c => c.Abort());
                    break;
            }

            return Task.FromResult(new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {count}"));
        }
    }
}
