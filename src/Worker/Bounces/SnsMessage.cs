using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Newsletter.Worker.Bounces;

/// <summary>
/// An Amazon SNS HTTP(S) delivery: the JSON envelope around a notification or a subscription message.
/// Only the fields that are signed, and the ones needed to check the signature, are read.
/// </summary>
public sealed record SnsMessage(
    string Type, string MessageId, string TopicArn, string? Subject, string Message, string Timestamp,
    string SignatureVersion, string Signature, string SigningCertUrl, string? SubscribeUrl, string? Token)
{
    public const string Notification = "Notification";
    public const string SubscriptionConfirmation = "SubscriptionConfirmation";
    public const string UnsubscribeConfirmation = "UnsubscribeConfirmation";

    /// <summary>Reads the envelope; null with a one-line reason when it is not one.</summary>
    public static SnsMessage? Parse(ReadOnlySpan<byte> body, out string problem)
    {
        problem = "";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            problem = "the body is not valid JSON";
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "the body is not a JSON object";
                return null;
            }
            string? Field(string name) =>
                root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

            var type = Field("Type");
            if (type is not (Notification or SubscriptionConfirmation or UnsubscribeConfirmation))
            {
                problem = type is null ? "no Type: not an SNS message" : $"an SNS message of unknown Type '{type}'";
                return null;
            }
            var subscription = type != Notification;
            string[] required = subscription
                ? ["MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "SubscribeURL", "Token"]
                : ["MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"];
            if (required.FirstOrDefault(n => Field(n) is null) is { } missing)
            {
                problem = $"an SNS {type} without {missing}";
                return null;
            }
            return new SnsMessage(type, Field("MessageId")!, Field("TopicArn")!, subscription ? null : Field("Subject"), Field("Message")!,
                Field("Timestamp")!, Field("SignatureVersion")!, Field("Signature")!, Field("SigningCertURL")!,
                Field("SubscribeURL"), Field("Token"));
        }
    }

    /// <summary>When SNS published it; null when the timestamp is not ISO 8601.</summary>
    public DateTimeOffset? PublishedAt => DateTimeOffset.TryParse(
        Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    /// <summary>
    /// The string SNS signs: the signed fields in byte order of their names, each as "Name\nvalue\n"
    /// (AWS, "Verifying the signatures of Amazon SNS messages"). Subject is signed only when present.
    /// </summary>
    public string StringToSign()
    {
        var text = new StringBuilder();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                text.Append(name).Append('\n').Append(value).Append('\n');
            }
        }
        Add("Message", Message);
        Add("MessageId", MessageId);
        if (Type == Notification)
        {
            Add("Subject", Subject);
            Add("Timestamp", Timestamp);
        }
        else
        {
            Add("SubscribeURL", SubscribeUrl);
            Add("Timestamp", Timestamp);
            Add("Token", Token);
        }
        Add("TopicArn", TopicArn);
        Add("Type", Type);
        return text.ToString();
    }
}
