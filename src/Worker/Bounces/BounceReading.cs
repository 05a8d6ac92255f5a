using MimeKit;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <param name="Recipient">The address the report names (Final-Recipient, Original-Rcpt-To), when it names one.</param>
/// <param name="Reason">Why the message was read so, in the editor's words, for the bounce history.</param>
public sealed record BounceReading(BounceKind Kind, string? Recipient, string? Status, string? Diagnostic, string Reason);

/// <summary>
/// Reads a message from the bounce mailbox: RFC 3464 delivery status notifications and RFC 5965 feedback
/// reports, parsed by MimeKit. Auto-replies (RFC 3834 <c>Auto-Submitted: auto-replied</c>, <c>X-Autoreply</c>,
/// <c>Precedence: auto_reply</c>) are never bounces. A bounce without a report part counts only when a mail
/// system evidently sent it and its own text names a failed recipient and an SMTP status (<see cref="PlainBounces"/>),
/// so an out-of-office can never cost a reader their subscription. A report about a report is never acted on.
/// </summary>
public static class BounceReader
{
    public static BounceReading Read(MimeMessage message)
    {
        if (PlainBounces.IsAboutAReport(message))
        {
            return None("a report about a report (a loop between mail systems); never acted on");
        }
        if (message.Body is MultipartReport report)
        {
            if (string.Equals(report.ReportType, "feedback-report", StringComparison.OrdinalIgnoreCase))
            {
                return Complaint(report);
            }
            if (string.Equals(report.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase))
            {
                // Some servers (Exchange among them) drop or garble the machine-readable part: its text is read as a plain bounce.
                if (DeliveryStatus(report) is { } reading)
                {
                    return reading;
                }
                var plain = IsAutoReply(message) ? null : PlainBounces.Read(message);
                return plain is { Kind: not BounceKind.None }
                    ? plain
                    : None("a delivery report without a readable machine-readable part, and its text names no failure");
            }
            return string.IsNullOrWhiteSpace(report.ReportType)
                ? None("a report that does not say what it is about")
                : None($"a report of type '{report.ReportType}', which is not about delivery");
        }
        if (IsAutoReply(message))
        {
            return None("an automatic reply (out of office or similar), not a bounce");
        }
        return PlainBounces.Read(message);
    }

    private static bool IsAutoReply(MimeMessage message)
    {
        if (message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond")
            || string.Equals(message.Headers["Precedence"]?.Trim(), "auto_reply", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        // Exim, Postfix and Gmail mark their bounces auto-replied too, as RFC 3834 asks; from a mail system it is not an out-of-office.
        var autoSubmitted = message.Headers["Auto-Submitted"]?.Trim() ?? "";
        return autoSubmitted.StartsWith("auto-replied", StringComparison.OrdinalIgnoreCase) && !PlainBounces.SentByMailSystem(message);
    }

    private static BounceReading Complaint(MultipartReport report)
    {
        var fields = report.OfType<MessageFeedbackReport>().FirstOrDefault()?.Fields;
        var recipient = Address(fields?["Original-Rcpt-To"])
            ?? report.OfType<MessagePart>().Select(p => p.Message?.To.Mailboxes.FirstOrDefault()?.Address?.ToLowerInvariant()).FirstOrDefault(a => a is not null);
        var type = fields?["Feedback-Type"]?.Trim();
        return new BounceReading(BounceKind.Complaint, recipient, null, null,
            $"the reader's mail provider reported it as {(string.IsNullOrEmpty(type) ? "abuse" : type)}");
    }

    /// <summary>Null when the machine-readable part is missing or holds no recipient group with an action.</summary>
    private static BounceReading? DeliveryStatus(MultipartReport report)
    {
        if (report.OfType<MessageDeliveryStatus>().FirstOrDefault() is not { } status
            || !status.StatusGroups.Skip(1).Any(g => g.Contains("Action")))
        {
            return null;
        }
        // The first group is about the message; each one after it is about one recipient. We send one
        // recipient per message, so the first failed recipient is the reader.
        foreach (var group in status.StatusGroups.Skip(1))
        {
            var action = group["Action"]?.Trim().ToLowerInvariant();
            var code = group["Status"]?.Trim();
            var recipient = Address(group["Final-Recipient"]) ?? Address(group["Original-Recipient"]);
            var diagnostic = Diagnostic(group["Diagnostic-Code"]);
            if (action != "failed")
            {
                continue; // delayed, delivered, relayed, expanded: nothing has failed yet
            }
            var (kind, reason) = Judge(code);
            return new BounceReading(kind, recipient, code, diagnostic, reason);
        }
        return None("a delivery report with no failed recipient (a delay or success notice)");
    }

    /// <summary>What an enhanced status (RFC 3463) of a failed delivery means: only a bad address is hard.</summary>
    internal static (BounceKind Kind, string Reason) Judge(string? code) => code switch
    {
        null or "" => (BounceKind.Soft, "not delivered for now (no status); counted"),
        _ when code.StartsWith("4.", StringComparison.Ordinal) => (BounceKind.Soft, $"not delivered for now ({code}); counted"),
        // 5.1.7 and 5.1.8 are about our sender address, not the reader's.
        "5.1.7" or "5.1.8" => (BounceKind.Soft, $"refused because of our sender address ({code}); counted, not suppressed"),
        _ when code.StartsWith("5.1.", StringComparison.Ordinal) || code == "5.2.1" =>
            (BounceKind.Hard, $"the recipient's server refused the address for good ({code})"),
        "5.2.2" => (BounceKind.Soft, $"the reader's mailbox is full ({code}); counted"),
        _ => (BounceKind.Soft, $"refused for a reason that is not the address ({code}); counted, not suppressed"),
    };

    private static BounceReading None(string reason) => new(BounceKind.None, null, null, null, reason);

    /// <summary>The address of a typed field such as <c>rfc822; reader@example.org</c>.</summary>
    private static string? Address(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return null;
        }
        var value = field[(field.IndexOf(';', StringComparison.Ordinal) + 1)..].Trim().Trim('<', '>');
        return value.Contains('@', StringComparison.Ordinal) ? value.ToLowerInvariant() : null;
    }

    private static string? Diagnostic(string? field) =>
        string.IsNullOrWhiteSpace(field) ? null : field[(field.IndexOf(';', StringComparison.Ordinal) + 1)..].Trim();
}
