using MimeKit;

namespace Newsletter.Worker.Bounces;

/// <summary>Whether a message was written by software (a mail server's report, an auto-reply) rather than a person.</summary>
public static class MailSystem
{
    private static readonly string[] DaemonNames = ["mailer-daemon", "postmaster", "mail delivery system", "mail delivery subsystem"];

    public static bool Sent(MimeMessage message)
    {
        if (message.Body is MultipartReport)
        {
            return true;
        }
        var autoSubmitted = message.Headers[HeaderId.AutoSubmitted]?.Trim();
        if (!string.IsNullOrEmpty(autoSubmitted) && !autoSubmitted.Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond") || message.Headers.Contains("X-Failed-Recipients")
            || message.Headers.Contains("X-MS-Exchange-Message-Is-Ndr"))
        {
            return true;
        }
        var precedence = message.Headers[HeaderId.Precedence]?.Trim().ToLowerInvariant();
        if (precedence is "auto_reply" or "bulk" or "junk")
        {
            return true;
        }
        if (message.Headers[HeaderId.ReturnPath]?.Trim() == "<>")
        {
            return true;
        }
        return message.From.Mailboxes.Any(m => DaemonNames.Any(d =>
            m.LocalPart.Equals(d, StringComparison.OrdinalIgnoreCase) || (m.Name ?? "").Equals(d, StringComparison.OrdinalIgnoreCase)));
    }
}
