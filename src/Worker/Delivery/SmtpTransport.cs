using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// MailKit over a socket we connect ourselves with <c>NoDelay</c>: with MailKit's default socket,
/// Nagle's algorithm and delayed ACKs cap a connection at about 23 messages a second.
/// </summary>
public sealed class SmtpTransport(IOptions<SmtpOptions> options, ILogger<SmtpTransport> logger) : IMailTransport
{
    public async Task<IMailConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var client = new NewsletterSmtpClient { Timeout = (int)o.Timeout.TotalMilliseconds };
        Socket? socket = null;
        try
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(o.Host, o.Port, cancellationToken);
            var security = o.Security switch
            {
                SmtpSecurity.None => SecureSocketOptions.None,
                SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.Auto,
            };
            await client.ConnectAsync(socket, o.Host, o.Port, security, cancellationToken);
            socket = null; // owned by the client now
            if (!string.IsNullOrEmpty(o.UserName))
            {
                await client.AuthenticateAsync(o.UserName, o.Password ?? "", cancellationToken);
            }
            client.DoNotDeclareSize();
            return new Connection(client, logger);
        }
        catch (Exception ex) when (ex is SocketException or IOException or SmtpCommandException or SmtpProtocolException
                                       or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            socket?.Dispose();
            client.Dispose();
            throw new MailTransportException($"cannot open an SMTP session with {o.Host}:{o.Port}: {ex.Message}", ex);
        }
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

    private sealed class Connection(SmtpClient client, ILogger logger) : IMailConnection
    {
        private bool _broken;

        public async Task<SendResult> SendAsync(
            MimeMessage message, MailboxAddress envelopeFrom, MailboxAddress envelopeTo, CancellationToken cancellationToken)
        {
            if (_broken || !client.IsConnected)
            {
                return new SendResult(SendStatus.ConnectionLost, 0, null, "the connection is closed");
            }
            try
            {
                var reply = await client.SendAsync(message, envelopeFrom, [envelopeTo], cancellationToken);
                return SendResult.Accepted(reply);
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
                                           or ServiceNotConnectedException or TimeoutException)
            {
                _broken = true;
                logger.LogWarning("SMTP connection lost: {Error}", ex.Message);
                return new SendResult(SendStatus.ConnectionLost, 0, null, ex.Message);
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (client.IsConnected && !_broken)
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.DisconnectAsync(quit: true, cts.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or SmtpProtocolException
                                           or SmtpCommandException or OperationCanceledException)
            {
                // Saying goodbye is a courtesy; the messages are already accounted for.
            }
            finally
            {
                client.Dispose();
            }
        }
    }
}
