using System.Text.Json;
using MimeKit;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <summary>What a Postmark webhook asks of the list: a report, or nothing (with why), or a body that is not one.</summary>
public sealed record PostmarkReading(BounceReport? Report, string Note, string? Problem = null);

/// <summary>
/// Reads Postmark's bounce and spam-complaint webhooks. The reader is the <c>Email</c> it names: Postmark
/// rewrites the Return-Path, so no VERP address comes back. Only bounce types that are about the address
/// suppress; an auto-responder or anything Postmark adds later is recorded and changes nobody.
/// </summary>
public static class PostmarkNotification
{
    private const string Source = "Postmark";

    public static PostmarkReading Read(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return new PostmarkReading(null, "", "the body is not valid JSON");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new PostmarkReading(null, "", "the body is not a JSON object");
            }
            var recordType = Text(root, "RecordType");
            if (recordType is not ("Bounce" or "SpamComplaint"))
            {
                return recordType is null
                    ? new PostmarkReading(null, "", "no RecordType: not a Postmark webhook")
                    : new PostmarkReading(null, $"a Postmark {recordType} record: nothing to do");
            }
            if (Text(root, "ID") is not { Length: > 0 } id)
            {
                return new PostmarkReading(null, "", $"a Postmark {recordType} record without its ID");
            }
            var type = Text(root, "Type") ?? recordType;
            var (kind, reason) = recordType == "SpamComplaint" ? Classify("SpamComplaint") : Classify(type);
            var diagnostic = Text(root, "Details") is { Length: > 0 } details ? details : Text(root, "Description");
            var reading = new BounceReading(kind, Address(Text(root, "Email")), null, diagnostic, reason);
            return new PostmarkReading(
                new BounceReport(BounceReport.KeyOf("postmark", id), BounceSource.Postmark, reading, new BounceAddress(null, false)), type);
        }
    }

    private static (BounceKind Kind, string Reason) Classify(string type) => type switch
    {
        "HardBounce" => (BounceKind.Hard, $"{Source}: the recipient's server refused the address for good (HardBounce)"),
        "BadEmailAddress" => (BounceKind.Hard, $"{Source}: the address is not a valid email address (BadEmailAddress)"),
        "SpamComplaint" => (BounceKind.Complaint, $"{Source}: the reader marked the message as spam"),
        "SoftBounce" or "Transient" or "DnsError" or "Blocked" => (BounceKind.Soft, $"{Source}: not delivered for now ({type}); counted"),
        "AutoResponder" => (BounceKind.None, $"{Source}: an automatic reply (out of office or similar), not a bounce"),
        _ => (BounceKind.None, $"{Source}: a {type} notice, which is not read as a bounce"),
    };

    private static string? Address(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var address = MailboxAddress.TryParse(value, out var mailbox) ? mailbox.Address : value.Trim();
        return address.Contains('@', StringComparison.Ordinal) ? address.ToLowerInvariant() : null;
    }

    /// <summary>A string field, or a number's digits as sent (Postmark's ID is a 64-bit number).</summary>
    private static string? Text(JsonElement element, string name) =>
        !element.TryGetProperty(name, out var value) ? null : value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
}
