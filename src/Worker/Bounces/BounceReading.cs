using MimeKit;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <param name="Recipient">The address the report names (Final-Recipient, Original-Rcpt-To), when it names one.</param>
/// <param name="Reason">Why the message was read so, in the editor's words, for the bounce history.</param>
public sealed record BounceReading(BounceKind Kind, string? Recipient, string? Status, string? Diagnostic, string Reason);

/// <summary>
/// Reads a message from the bounce mailbox: RFC 3464 delivery status notifications and RFC 5965 feedback
/// reports, parsed by MimeKit. Auto-replies (RFC 3834 <c>Auto-Submitted: auto-replied</c>, <c>X-Autoreply</c>,
/// <c>Precedence: auto_reply</c>) are never bounces. Non-standard bounces are not guessed at here: a message
/// that is not a report is left alone, so an out-of-office can never cost a reader their subscription.
/// </summary>
public static class BounceReader
{
    public static BounceReading Read(MimeMessage message)
    {
        if (message.Body is MultipartReport report)
        {
            if (string.Equals(report.ReportType, "feedback-report", StringComparison.OrdinalIgnoreCase))
            {
                return Complaint(report);
            }
            if (string.Equals(report.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase))
            {
                return DeliveryStatus(report);
            }
            return None($"a report of type '{report.ReportType}', which is not about delivery");
        }
        if (IsAutoReply(message))
        {
            return None("an automatic reply (out of office or similar), not a bounce");
        }
        return None("not a delivery status notification or feedback report");
    }

    private static bool IsAutoReply(MimeMessage message)
    {
        var autoSubmitted = message.Headers["Auto-Submitted"]?.Trim() ?? "";
        return autoSubmitted.StartsWith("auto-replied", StringComparison.OrdinalIgnoreCase)
            || message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond")
            || string.Equals(message.Headers["Precedence"]?.Trim(), "auto_reply", StringComparison.OrdinalIgnoreCase);
    }

    private static BounceReading Complaint(MultipartReport report)
    {
        var fields = report.OfType<MessageFeedbackReport>().FirstOrDefault()?.Fields;
        var recipient = Address(fields?["Original-Rcpt-To"])
            ?? report.OfType<MessagePart>().Select(p => p.Message?.To.Mailboxes.FirstOrDefault()?.Address).FirstOrDefault(a => a is not null);
        var type = fields?["Feedback-Type"]?.Trim();
        return new BounceReading(BounceKind.Complaint, recipient, null, null,
            $"the reader's mail provider reported it as {(string.IsNullOrEmpty(type) ? "abuse" : type)}");
    }

    private static BounceReading DeliveryStatus(MultipartReport report)
    {
        if (report.OfType<MessageDeliveryStatus>().FirstOrDefault() is not { } status)
        {
            return None("a delivery report without its machine-readable part");
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
            var kind = code switch
            {
                null or "" => BounceKind.Soft,
                _ when code.StartsWith("4.", StringComparison.Ordinal) => BounceKind.Soft,
                _ when code.StartsWith("5.1.", StringComparison.Ordinal) || code == "5.2.1" => BounceKind.Hard,
                _ => BounceKind.Soft,
            };
            var reason = kind == BounceKind.Hard
                ? $"the recipient's server refused the address for good ({code})"
                : code is { Length: > 0 } && code.StartsWith("5.", StringComparison.Ordinal) && code != "5.2.2"
                    ? $"refused for a reason that is not the address ({code}); counted, not suppressed"
                    : $"not delivered for now ({(string.IsNullOrEmpty(code) ? "no status" : code)}); counted";
            return new BounceReading(kind, recipient, code, diagnostic, reason);
        }
        return None("a delivery report with no failed recipient (a delay or success notice)");
    }

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
