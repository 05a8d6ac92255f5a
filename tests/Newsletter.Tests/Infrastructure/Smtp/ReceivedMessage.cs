using MimeKit;

namespace Newsletter.Tests.Infrastructure.Smtp;

/// <summary>One message a <see cref="TestSmtpServer"/> accepted (replied, or was about to reply, 250 to).</summary>
/// <param name="MailFrom">The envelope sender from <c>MAIL FROM</c>; empty for the null sender <c>&lt;&gt;</c>.</param>
/// <param name="RcptTo">The envelope recipients the server accepted for this message, in order.</param>
/// <param name="Message">The parsed message.</param>
/// <param name="Raw">The message bytes as received after <c>DATA</c> (dot-unstuffed; the terminating <c>CRLF.CRLF</c> is not included).</param>
/// <param name="ConnectionNumber">Which accepted connection delivered it (1 = the first the server ever accepted).</param>
public sealed record ReceivedMessage(
    string MailFrom,
    IReadOnlyList<string> RcptTo,
    MimeMessage Message,
    byte[] Raw,
    int ConnectionNumber);
