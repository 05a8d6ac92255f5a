using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// MailKit over a socket we connect ourselves with <c>NoDelay</c> (MailKit's default socket leaves
/// Nagle's algorithm on, which with delayed ACKs stalls every reply). Cancellation and time-outs hold:
/// the token, and for opening <see cref="SmtpOptions.Timeout"/>, shut the socket down.
/// </summary>
public sealed class SmtpTransport(IOptions<SmtpOptions> options, ILogger<SmtpTransport> logger) : IMailTransport
{
    public async Task<IMailConnection> OpenAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.Value;
        var client = new NewsletterSmtpClient { Timeout = (int)o.Timeout.TotalMilliseconds };
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(o.Timeout);
        var owned = false;
        try
        {
            using (Abort.On(socket, deadline.Token))
            {
                await socket.ConnectAsync(o.Host, o.Port, cancellationToken);
                var security = o.Security switch
                {
                    SmtpSecurity.None => SecureSocketOptions.None,
                    SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                    SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                    _ => SecureSocketOptions.Auto,
                };
                // The one seam for DATA pipelining: our stream under MailKit, or MailKit's own on the socket.
                var stream = o.PipelineData ? new BatchingSocketStream(socket) : null;
                if (stream is null)
                {
                    await client.ConnectAsync(socket, o.Host, o.Port, security, cancellationToken);
                }
                else
                {
                    await client.ConnectAsync(stream, o.Host, o.Port, security, cancellationToken);
                }
                owned = true; // the client owns the socket now
                if (!string.IsNullOrEmpty(o.UserName))
                {
                    if (!client.IsSecure && !o.AllowPlainTextLogin)
                    {
                        // Auto falls back to plain text when the server offers no STARTTLS, or someone strips it.
                        Close(client, socket, owned);
                        throw new MailTransportException(
                            $"cannot open an SMTP session with {o.Host}:{o.Port}: the connection is not encrypted, so the password was not sent " +
                            "(use Smtp:Security=StartTls or SslOnConnect, or set Smtp:AllowPlainTextLogin=true for a server on a trusted network)");
                    }
                    await client.AuthenticateAsync(o.UserName, o.Password ?? "", cancellationToken);
                }
                // Under TLS the stream sees only ciphertext, so DATA pipelining stays off.
                stream?.PipelineData = !client.IsSecure && client.Capabilities.HasFlag(SmtpCapabilities.Pipelining);
            }
            client.DoNotDeclareSize();
            return new Connection(client, socket, logger);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            Close(client, socket, owned);
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or IOException or SmtpCommandException or SmtpProtocolException
                                       or AuthenticationException or SslHandshakeException or TimeoutException
                                       or ObjectDisposedException or OperationCanceledException)
        {
            Close(client, socket, owned);
            var reason = deadline.IsCancellationRequested ? $"no answer within {o.Timeout.TotalSeconds:0} s" : ex.Message;
            throw new MailTransportException($"cannot open an SMTP session with {o.Host}:{o.Port}: {reason}", ex);
        }
    }

    private static void Close(SmtpClient client, Socket socket, bool owned)
    {
        if (!owned)
        {
            socket.Dispose();
        }
        client.Dispose();
    }

    /// <summary>
    /// MailKit, when the server advertises SIZE (RFC 1870), serialises every message once just to
    /// count its bytes for <c>MAIL FROM … SIZE=</c>, then again to send it: quoted-printable
    /// encoding of a 30 KB newsletter twice per recipient, the largest single cost of a send in the
    /// benchmark. Our messages are tens of kilobytes, far below any server's limit, so the size is
    /// not declared; a server that did mind would still refuse an oversized message after DATA.
    /// </summary>
    private sealed class NewsletterSmtpClient : SmtpClient
    {
        public void DoNotDeclareSize() => Capabilities &= ~SmtpCapabilities.Size;
    }

    /// <summary>Ends any call on a socket when a token fires, by shutting the socket down.</summary>
    private static class Abort
    {
        public static CancellationTokenRegistration On(Socket socket, CancellationToken token) =>
            token.CanBeCanceled ? token.UnsafeRegister(static state => ShutDown((Socket)state!), socket) : default;

        public static void ShutDown(Socket socket)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Not connected yet, or already gone.
            }
            socket.Dispose();
        }
    }

    private sealed class Connection(SmtpClient client, Socket socket, ILogger logger) : IMailConnection
    {
        private bool _broken;

        public bool IsOpen => !_broken && client.IsConnected;

        public async Task<SendResult> SendAsync(
            MimeMessage message, MailboxAddress envelopeFrom, MailboxAddress envelopeTo, CancellationToken cancellationToken)
        {
            if (!IsOpen)
            {
                return new SendResult(SendStatus.ConnectionLost, 0, null, "the connection is closed");
            }
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using (Abort.On(socket, cancellationToken))
                {
                    var reply = await client.SendAsync(message, envelopeFrom, [envelopeTo], cancellationToken);
                    return SendResult.Accepted(reply);
                }
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not SmtpCommandException)
            {
                // Stopped mid-message: the socket was shut down; the caller decides what that means.
                _broken = true;
                throw new OperationCanceledException("The send was stopped.", ex, cancellationToken);
            }
            catch (SmtpCommandException ex)
            {
                // The server answered. MailKit has already reset the transaction (RSET) after a
                // rejected recipient or message, so the connection stays usable — unless the
                // reply was 421, after which the server closes it.
                var result = ex.ErrorCode == SmtpErrorCode.SenderNotAccepted
                    ? SendResult.SenderRefused((int)ex.StatusCode, ex.Message)
                    : SendResult.FromReply((int)ex.StatusCode, ex.Message);
                if (ex.StatusCode == SmtpStatusCode.ServiceNotAvailable || !client.IsConnected)
                {
                    _broken = true;
                }
                return result;
            }
            catch (Exception ex) when (ex is IOException or SocketException or SmtpProtocolException
                                           or ServiceNotConnectedException or TimeoutException or ObjectDisposedException)
            {
                _broken = true;
                var lost = new SendResult(SendStatus.ConnectionLost, 0, null, ex.Message);
                logger.LogWarning("SMTP connection lost: {Error}", lost.Reply);
                return lost;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (client.IsConnected && !_broken)
                {
                    using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    using (Abort.On(socket, quit.Token))
                    {
                        await client.DisconnectAsync(quit: true, quit.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or SmtpProtocolException
                                           or SmtpCommandException or OperationCanceledException or ObjectDisposedException)
            {
                // Saying goodbye is a courtesy; the messages are already accounted for.
            }
            finally
            {
                client.Dispose();
                socket.Dispose();
            }
        }
    }
}
