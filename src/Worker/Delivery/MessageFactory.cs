using System.Text;
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
/// alternative bodies, text first and HTML last; then prepares it for transport and, when
/// configured, signs it with DKIM.
/// </summary>
/// <remarks>
/// Invariants every message keeps, whatever its caller passed in:
/// exactly one recipient; every header value one line (CR, LF and other control characters become
/// spaces, so a subject can never start a header of its own); no line over 998 characters (bodies
/// are quoted-printable at 78, headers folded); the body's encoding fixed before signing, so the
/// DKIM body hash still matches after MailKit sends it.
/// </remarks>
public sealed class MessageFactory(
    IOptions<NewsletterOptions> newsletter,
    IOptions<MessageOptions> messageOptions,
    DkimSigning dkim,
    VerpAddresses verp,
    TimeProvider time)
{
    private string MessageIdDomain => OneLine(newsletter.Value.MessageIdDomain) is { Length: > 0 } domain
        ? domain
        : new Uri(newsletter.Value.PublicBaseUrl).Host;

    public MimeMessage Build(
        EditionOptions edition, RenderedEmail email, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
    {
        var to = RecipientAddress(recipient);
        if (!EmailMarkdown.IsAbsoluteWebUrl(unsubscribeUrl) || unsubscribeUrl.Any(IsBreaking))
        {
            throw new ArgumentException("The unsubscribe link must be one absolute http(s) address.", nameof(unsubscribeUrl));
        }
        var o = messageOptions.Value;

        var message = new MimeMessage();
        message.From.Add(FromAddress(edition));
        // Validated at start; a value that still does not parse as one mailbox is left out, never repaired.
        if (!string.IsNullOrWhiteSpace(o.ReplyTo) && MailboxAddress.TryParse(OneLine(o.ReplyTo), out var replyTo))
        {
            message.ReplyTo.Add(new MailboxAddress(OneLine(replyTo.Name), replyTo.Address));
        }
        message.To.Add(to);
        // Header values are made single-line here whatever the caller checked: a CR or LF in a
        // subject must never be able to start a header of its own.
        message.Subject = OneLine(email.Subject);
        message.Date = time.GetUtcNow();
        message.MessageId = $"{LocalPart(messageIdLocalPart)}@{MessageIdDomain}";
        message.Headers.Add("List-Id", OneLine(edition.ListId));
        message.Headers.Add("List-Unsubscribe", ListUnsubscribe(edition, unsubscribeUrl, o.UnsubscribeMailto));
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        if (!string.IsNullOrWhiteSpace(o.FeedbackIdSender))
        {
            message.Headers.Add("Feedback-ID", $"{OneLine(edition.Key)}:newsletter:{OneLine(o.FeedbackIdSender)}");
        }

        message.Body = new MultipartAlternative { Part(TextFormat.Plain, email.Text), Part(TextFormat.Html, email.Html) };

        // Checkpoint for DKIM: encodings are settled here (7-bit clean, lines within 78), so neither
        // MailKit nor a relay has a reason to re-encode the body after it has been signed.
        message.Prepare(EncodingConstraint.SevenBit, 78);
        dkim.Sign(message);
        return message;
    }

    /// <summary>
    /// The envelope sender (SMTP MAIL FROM) for one recipient: with VERP on, <c>bounces+TOKEN@domain</c>
    /// naming the publication and subscriber; otherwise the edition's From address.
    /// </summary>
    public MailboxAddress EnvelopeFrom(EditionOptions edition, Recipient recipient, int? publicationId = null) =>
        verp.For(publicationId ?? 0, Math.Max(0, recipient.SubscriberId))
        ?? new MailboxAddress("", FromAddress(edition).Address);

    private static MailboxAddress FromAddress(EditionOptions edition)
    {
        var from = MailboxAddress.Parse(OneLine(edition.From));
        return new MailboxAddress(OneLine(from.Name), from.Address);
    }

    /// <summary>Exactly one mailbox, or the message is not built: a list, a group, or an address with a
    /// line break is refused rather than repaired, since repairing could mail the wrong person.</summary>
    private static MailboxAddress RecipientAddress(Recipient recipient)
    {
        var email = recipient.Email?.Trim() ?? "";
        if (email.Length == 0 || email.Any(c => IsBreaking(c) || c is ',' or ';' or '<' or '>' or ' ')
            || !MailboxAddress.TryParse(email, out var parsed) || parsed.Address != email
            || email.IndexOf('@', StringComparison.Ordinal) is <= 0 || email.Count(c => c == '@') != 1)
        {
            throw new ArgumentException($"'{OneLine(email)}' is not a single email address.", nameof(recipient));
        }
        return new MailboxAddress(OneLine(recipient.Name), email);
    }

    private static string ListUnsubscribe(EditionOptions edition, string unsubscribeUrl, string? mailto)
    {
        var value = $"<{unsubscribeUrl.Trim()}>";
        if (!string.IsNullOrWhiteSpace(mailto))
        {
            value += $", <mailto:{OneLine(mailto)}?subject=unsubscribe%20{Uri.EscapeDataString(OneLine(edition.Key))}>";
        }
        return value;
    }

    private static TextPart Part(TextFormat format, string content)
    {
        var part = new TextPart(format) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        part.SetText(Encoding.UTF8, content.EndsWith('\n') ? content : content + "\n");
        return part;
    }

    /// <summary>A Message-ID local part of safe atom characters only.</summary>
    private static string LocalPart(string value)
    {
        var cleaned = new string(OneLine(value).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+' ? c : '-').ToArray())
            .Trim('.');
        while (cleaned.Contains("..", StringComparison.Ordinal))
        {
            cleaned = cleaned.Replace("..", ".", StringComparison.Ordinal);
        }
        return cleaned.Length == 0 ? Guid.NewGuid().ToString("N") : cleaned;
    }

    /// <summary>A character that could end a header line or confuse a reader of one.</summary>
    internal static bool IsBreaking(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    /// <summary>The value on one line: control characters and line separators become spaces, runs of
    /// white space collapse to one, and the ends are trimmed.</summary>
    internal static string OneLine(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (!value.Any(c => IsBreaking(c) || char.IsWhiteSpace(c)))
        {
            return value;
        }
        var builder = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value)
        {
            if (IsBreaking(c) || char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }
            if (space)
            {
                builder.Append(' ');
                space = false;
            }
            builder.Append(c);
        }
        return builder.ToString();
    }
}
