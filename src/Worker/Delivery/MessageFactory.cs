using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Delivery;

/// <summary>The person one message goes to.</summary>
public sealed record Recipient(int SubscriberId, string Email, string? Name);

/// <summary>
/// Builds one recipient's message: their own To (never Bcc), the list headers, and the two
/// alternative bodies, text first and HTML last.
/// </summary>
public sealed class MessageFactory(IOptions<NewsletterOptions> newsletter, TimeProvider time)
{
    private string MessageIdDomain => newsletter.Value.MessageIdDomain
        ?? new Uri(newsletter.Value.PublicBaseUrl).Host;

    public MimeMessage Build(
        EditionOptions edition, RenderedEmail email, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(edition.From));
        message.To.Add(new MailboxAddress(OneLine(recipient.Name), recipient.Email));
        // Header values are made single-line here whatever the caller checked: a CR or LF in a
        // subject must never be able to start a header of its own.
        message.Subject = OneLine(email.Subject);
        message.Date = time.GetUtcNow();
        message.MessageId = $"{messageIdLocalPart}@{MessageIdDomain}";
        message.Headers.Add("List-Id", OneLine(edition.ListId));
        message.Headers.Add("List-Unsubscribe", $"<{OneLine(unsubscribeUrl)}>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");

        message.Body = new MultipartAlternative
        {
            new TextPart(TextFormat.Plain) { Text = email.Text, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            new TextPart(TextFormat.Html) { Text = email.Html, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
        };
        return message;
    }

    internal static string OneLine(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        return value.Any(char.IsControl)
            ? new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim()
            : value;
    }
}
