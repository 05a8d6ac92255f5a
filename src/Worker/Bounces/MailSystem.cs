using MimeKit;

namespace Newsletter.Worker.Bounces;

/// <summary>Whether a message was written by software (a mail server's report, an auto-reply) rather than a
/// person: over POP3, only such messages are deleted once read (<see cref="BounceMailbox"/>).</summary>
public static class MailSystem
{
    public static bool Sent(MimeMessage message)
    {
        var autoSubmitted = message.Headers[HeaderId.AutoSubmitted]?.Trim();
        var precedence = message.Headers[HeaderId.Precedence]?.Trim().ToLowerInvariant();
        return message.Body is MultipartReport
            || (!string.IsNullOrEmpty(autoSubmitted) && !autoSubmitted.Equals("no", StringComparison.OrdinalIgnoreCase))
            || message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond")
            || precedence is "auto_reply" or "bulk" or "junk"
            || PlainBounces.HasNullSender(message)
            || PlainBounces.SentByMailSystem(message);
    }
}
