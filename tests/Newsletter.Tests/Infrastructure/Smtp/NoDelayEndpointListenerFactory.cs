using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Newsletter.Tests.Infrastructure.Smtp;

/// <summary>
/// An SmtpServer endpoint listener factory whose accepted sockets have <see cref="Socket.NoDelay"/> set.
/// </summary>
/// <remarks>
/// SmtpServer's own <see cref="EndpointListenerFactory"/> leaves Nagle on. SMTP is a small-reply
/// request/response protocol, so Nagle on one side plus delayed ACK on the other stalls every
/// reply by ~40 ms (≈ 23 messages/s per connection on loopback, DESIGN.md §4). SmtpServer's
/// <c>EndpointListener</c> and <c>SecurableDuplexPipe</c> have internal constructors, so this
/// factory brings its own listener and pipe rather than wrapping theirs.
/// </remarks>
public sealed class NoDelayEndpointListenerFactory : IEndpointListenerFactory
{
    readonly Action<ISessionContext, Socket>? _onAccepted;
    readonly List<IEndpointListener> _listeners = [];

    /// <param name="onAccepted">Called for each accepted connection, before its session starts.</param>
    public NoDelayEndpointListenerFactory(Action<ISessionContext, Socket>? onAccepted = null)
    {
        _onAccepted = onAccepted;
    }

    /// <summary>Raised once the listening socket is bound, with the actual local endpoint (useful with port 0).</summary>
    public event EventHandler<EndpointEventArgs>? EndpointStarted;

    /// <summary>Raised when SmtpServer disposes the listener (on shutdown).</summary>
    public event EventHandler<EndpointEventArgs>? EndpointStopped;

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        // TcpListener on Unix sets SO_REUSEADDR at bind, so a restart can rebind the port while
        // connections the server closed first are still in TIME_WAIT.
        var tcpListener = new TcpListener(endpointDefinition.Endpoint);
        tcpListener.Start();

        var args = new EndpointEventArgs(endpointDefinition, tcpListener.LocalEndpoint);
        EndpointStarted?.Invoke(this, args);

        var listener = new NoDelayEndpointListener(tcpListener, _onAccepted, () => EndpointStopped?.Invoke(this, args));
        lock (_listeners)
        {
            _listeners.Add(listener);
        }

        return listener;
    }

    /// <summary>
    /// Closes every listening socket this factory created, so the port is free as soon as this
    /// returns (SmtpServer disposes its listener only once its accept loop has noticed cancellation).
    /// Idempotent; accepted connections are not touched.
    /// </summary>
    public void StopListening()
    {
        IEndpointListener[] listeners;
        lock (_listeners)
        {
            listeners = [.. _listeners];
            _listeners.Clear();
        }

        foreach (var listener in listeners)
        {
            listener.Dispose();
        }
    }

    sealed class NoDelayEndpointListener(TcpListener tcpListener, Action<ISessionContext, Socket>? onAccepted, Action onDisposed)
        : IEndpointListener
    {
        int _disposed;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var socket = await tcpListener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            socket.NoDelay = true;

            context.Properties[EndpointListener.LocalEndPointKey] = tcpListener.LocalEndpoint;
            context.Properties[EndpointListener.RemoteEndPointKey] = socket.RemoteEndPoint!;

            onAccepted?.Invoke(context, socket);

            return new SocketDuplexPipe(socket);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                tcpListener.Stop();
                onDisposed();
            }
        }
    }

    /// <summary>A plain-text duplex pipe over a connected socket; SmtpServer disposes it when the session ends.</summary>
    sealed class SocketDuplexPipe : ISecurableDuplexPipe
    {
        readonly NetworkStream _stream;

        public SocketDuplexPipe(Socket socket)
        {
            _stream = new NetworkStream(socket, ownsSocket: true);
            Input = PipeReader.Create(_stream);
            Output = PipeWriter.Create(_stream);
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }

        public bool IsSecure => false;

        public SslProtocols SslProtocol => SslProtocols.None;

        // The test server configures no certificate, so SmtpServer never advertises STARTTLS and
        // never calls this. TLS is out of scope for the loopback test server.
        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The test SMTP server does not support STARTTLS.");

        public void Dispose() => _stream.Dispose();
    }
}
