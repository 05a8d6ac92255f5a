using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>What an SES notification asks of the list: one report per recipient, or nothing with the reason why.</summary>
/// <param name="Problem">Set when the message is not an SES notification at all.</param>
public sealed record SesReading(IReadOnlyList<BounceReport> Reports, string Note, string? Problem = null);

/// <summary>
/// Reads the SES notification an SNS message carries (notification or event publishing: Bounce, Complaint,
/// anything else is nothing to do). A recipient's enhanced status code decides as in a bounce mailbox's
/// DSN; without one, SES's bounce type does. The VERP envelope sender, when SES reports it, names the reader.
/// </summary>
public static partial class SesNotification
{
    private const string Source = "Amazon SES";

    public static SesReading Read(SnsMessage sns, VerpAddresses verp)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(sns.Message, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return new SesReading([], "", "its Message is not JSON, so not an SES notification");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new SesReading([], "", "its Message is not a JSON object, so not an SES notification");
            }
            var type = Text(root, "notificationType") ?? Text(root, "eventType");
            var address = BounceAddressing.FromEnvelopeSender(
                root.TryGetProperty("mail", out var mail) && mail.ValueKind == JsonValueKind.Object ? Text(mail, "source") : null, verp);
            return type switch
            {
                "Bounce" when Child(root, "bounce") is { } bounce => new SesReading(Bounces(sns, bounce, address), "bounce"),
                "Complaint" when Child(root, "complaint") is { } complaint => new SesReading(Complaints(sns, complaint, address), "complaint"),
                "Bounce" or "Complaint" => new SesReading([], "", $"an SES {type} notification without its details"),
                null => new SesReading([], "", "its Message has no notificationType or eventType, so not an SES notification"),
                _ => new SesReading([], $"an SES {type} notification: nothing to do"),
            };
        }
    }

    private static List<BounceReport> Bounces(SnsMessage sns, JsonElement bounce, BounceAddress address)
    {
        var type = Text(bounce, "bounceType") ?? "Undetermined";
        var subType = Text(bounce, "bounceSubType") ?? "Undetermined";
        var id = Text(bounce, "feedbackId");
        return Recipients(bounce, "bouncedRecipients", (recipient, element) =>
        {
            var status = Text(element, "status")?.Trim();
            status = status is not null && EnhancedStatus().IsMatch(status) ? status : null;
            var (kind, reason) = Classify(type, subType, status);
            var reading = new BounceReading(kind, recipient, status, Text(element, "diagnosticCode"), reason);
            return new BounceReport(Key(id, sns, recipient), BounceSource.AmazonSes, reading, address);
        });
    }

    private static List<BounceReport> Complaints(SnsMessage sns, JsonElement complaint, BounceAddress address)
    {
        var feedback = Text(complaint, "complaintFeedbackType");
        var reason = Text(complaint, "complaintSubType") == "OnAccountSuppressionList"
            ? $"{Source}: not sent, the address is on this account's suppression list after a complaint"
            : $"{Source}: the reader's mail provider reported it as {(string.IsNullOrWhiteSpace(feedback) ? "spam" : feedback)}";
        var id = Text(complaint, "feedbackId");
        return Recipients(complaint, "complainedRecipients", (recipient, _) => new BounceReport(
            Key(id, sns, recipient), BounceSource.AmazonSes, new BounceReading(BounceKind.Complaint, recipient, null, null, reason), address));
    }

    /// <summary>The status code decides when there is one (our DSN rule); otherwise SES's type and subtype.</summary>
    private static (BounceKind Kind, string Reason) Classify(string type, string subType, string? status)
    {
        if (status is not null)
        {
            if (status.StartsWith("5.1.", StringComparison.Ordinal) || status == "5.2.1")
            {
                return (BounceKind.Hard, $"{Source}: the recipient's server refused the address for good ({status})");
            }
            return status.StartsWith("5.", StringComparison.Ordinal) && status != "5.2.2"
                ? (BounceKind.Soft, $"{Source}: refused for a reason that is not the address ({status}); counted, not suppressed")
                : (BounceKind.Soft, $"{Source}: not delivered for now ({status}); counted");
        }
        return (type, subType) switch
        {
            ("Permanent", "General") => (BounceKind.Hard, $"{Source}: the recipient's server refused the address for good (Permanent, General)"),
            ("Permanent", "NoEmail") => (BounceKind.Hard, $"{Source}: the address does not exist (Permanent, NoEmail)"),
            ("Permanent", "Suppressed") => (BounceKind.Hard, $"{Source}: not sent, the address is on SES's suppression list after earlier hard bounces"),
            ("Permanent", "OnAccountSuppressionList") => (BounceKind.Hard, $"{Source}: not sent, the address is on this account's suppression list"),
            ("Permanent", _) => (BounceKind.Soft, $"{Source}: refused for a reason that is not the address (Permanent, {subType}); counted, not suppressed"),
            ("Transient", _) => (BounceKind.Soft, $"{Source}: not delivered for now (Transient, {subType}); counted"),
            _ => (BounceKind.Soft, $"{Source}: not delivered, for a reason SES could not tell ({type}, {subType}); counted"),
        };
    }

    /// <summary>One report per recipient named (we send one per message); a report naming none still counts once.</summary>
    private static List<BounceReport> Recipients(JsonElement details, string name, Func<string?, JsonElement, BounceReport> report)
    {
        var reports = new List<BounceReport>();
        if (details.TryGetProperty(name, out var recipients) && recipients.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in recipients.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
            {
                if (Address(Text(element, "emailAddress")) is { } recipient && reports.All(r => r.Reading.Recipient != recipient))
                {
                    reports.Add(report(recipient, element));
                }
            }
        }
        if (reports.Count == 0)
        {
            reports.Add(report(null, default));
        }
        return reports;
    }

    /// <summary>SES's event id and the recipient; SNS's message id when SES gave none (SNS keeps it across retries).</summary>
    private static string Key(string? feedbackId, SnsMessage sns, string? recipient) =>
        BounceReport.KeyOf("ses", $"{(string.IsNullOrWhiteSpace(feedbackId) ? "sns:" + sns.MessageId : feedbackId)}|{recipient}");

    private static string? Address(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var address = MailboxAddress.TryParse(value, out var mailbox) ? mailbox.Address : value.Trim().Trim('<', '>');
        return address.Contains('@', StringComparison.Ordinal) ? address.ToLowerInvariant() : null;
    }

    private static JsonElement? Child(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [GeneratedRegex(@"^[45]\.\d{1,3}\.\d{1,3}$")]
    private static partial Regex EnhancedStatus();
}
