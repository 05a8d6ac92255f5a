using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Editions;

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
/// are quoted-printable with lines within 76, headers folded); the body's encoding fixed before signing, so the
/// DKIM body hash still matches after MailKit sends it.
/// </remarks>
public sealed class MessageFactory(
    IOptions<NewsletterOptions> newsletter,
    IOptions<MessageOptions> messageOptions,
    DkimSigning dkim,
    VerpAddresses verp,
    TimeProvider time)
{
    private readonly IOptions<MessageOptions> _messageOptions = messageOptions;
    private readonly DkimSigning _dkim = dkim;
    private readonly TimeProvider _time = time;

    // Options do not change after start: what can be worked out from them once is, rather than per message.
    private readonly Lazy<string> _messageIdDomain = new(() => OneLine(newsletter.Value.MessageIdDomain) is { Length: > 0 } domain
        ? domain
        : new Uri(newsletter.Value.PublicBaseUrl).Host);

    private readonly Lazy<(string Name, string Address)?> _replyTo = new(() =>
        // Validated at start; a value that still does not parse as one mailbox is left out, never repaired.
        !string.IsNullOrWhiteSpace(messageOptions.Value.ReplyTo) && MailboxAddress.TryParse(OneLine(messageOptions.Value.ReplyTo), out var replyTo)
            ? (OneLine(replyTo.Name), replyTo.Address)
            : null);

    private readonly ConcurrentDictionary<string, (string Name, string Address)> _fromAddresses = new(StringComparer.Ordinal);

    /// <summary>Builds one recipient's message from a rendered email (previews, test sends). The bodies are
    /// encoded exactly as on the delivery path, whole.</summary>
    public MimeMessage Build(
        EditionOptions edition, RenderedEmail email, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
    {
        ArgumentNullException.ThrowIfNull(email);
        return Build(edition, email.Subject, new EncodedBody(EncodedPart.Of(email.Text), EncodedPart.Of(email.Html)),
            recipient, unsubscribeUrl, messageIdLocalPart);
    }

    /// <summary>
    /// Builds one recipient's message around bodies already quoted-printable encoded (<see cref="EncodedEmail"/>):
    /// MimeKit is told the content is quoted-printable already, so it writes it as is, when signing
    /// and when sending.
    /// </summary>
    public MimeMessage Build(
        EditionOptions edition, string subject, EncodedBody body, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart) =>
        ForSender(edition, subject).Fill(body, recipient, unsubscribeUrl, messageIdLocalPart);

    /// <summary>
    /// A message for one sender to fill again for each recipient of an issue (see <see cref="SenderMessage"/>).
    /// </summary>
    /// <param name="preEncoded">Bodies pre-encoded per issue (<see cref="EncodedEmail"/>); false: MimeKit encodes each whole body.</param>
    public SenderMessage ForSender(EditionOptions edition, string subject, bool preEncoded = true)
    {
        ArgumentNullException.ThrowIfNull(edition);
        return new SenderMessage(this, edition, subject, preEncoded);
    }

    /// <summary>
    /// One sender's message for one issue: what every recipient's copy shares (From, Reply-To,
    /// Subject, List-Id, List-Unsubscribe-Post, Feedback-ID, the MIME structure) is set once, and
    /// <see cref="Fill"/> replaces what is personal (To, Date, Message-ID, List-Unsubscribe, the two
    /// bodies) and signs again. The same <see cref="MimeMessage"/> comes back each time: a sender
    /// hands it to the server and records the answer before it fills it for the next recipient.
    /// </summary>
    /// <remarks>
    /// Refilling touches four headers where a fresh build sets up a dozen address lists, parses and
    /// folds every header (docs/benchmarks.md has the cost). Not thread-safe: one per sender.
    /// </remarks>
    public sealed class SenderMessage
    {
        private readonly MessageFactory _factory;
        private readonly EditionOptions _edition;
        private readonly MimeMessage _message = new();
        private readonly TextPart _text;
        private readonly TextPart _html;
        private readonly EncodedBodyBuffers? _buffers;

        internal SenderMessage(MessageFactory factory, EditionOptions edition, string subject, bool preEncoded)
        {
            _factory = factory;
            _edition = edition;
            _text = NewPart(TextFormat.Plain, preEncoded);
            _html = NewPart(TextFormat.Html, preEncoded);
            _buffers = preEncoded ? new EncodedBodyBuffers() : null;
            var o = factory._messageOptions.Value;
            var message = _message;
            message.From.Add(factory.FromAddress(edition));
            if (factory._replyTo.Value is { } replyTo)
            {
                message.ReplyTo.Add(new MailboxAddress(replyTo.Name, replyTo.Address));
            }
            // Placeholders, so that the personal headers keep their place; Fill replaces both before
            // the message is ever handed out.
            message.To.Add(new MailboxAddress("", "recipient@invalid"));
            // Header values are made single-line here whatever the caller checked: a CR or LF in a
            // subject must never be able to start a header of its own.
            message.Subject = OneLine(subject);
            message.Headers.Add("List-Id", OneLine(edition.ListId));
            message.Headers.Add("List-Unsubscribe", "<https://invalid/>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            if (!string.IsNullOrWhiteSpace(o.FeedbackIdSender))
            {
                message.Headers.Add("Feedback-ID", $"{OneLine(edition.Key)}:newsletter:{OneLine(o.FeedbackIdSender)}");
            }
            message.Body = new MultipartAlternative { _text, _html };
        }

        /// <summary>
        /// The message for one recipient of <paramref name="issue"/>: the one seam for pre-encoded
        /// bodies. Pre-encoded, only the personal values are encoded, into this sender's buffers;
        /// otherwise the rendered texts are given to MimeKit to encode. Valid until the next call.
        /// </summary>
        /// <exception cref="ArgumentException">A link is not an absolute http(s) address, or the recipient is not exactly one address.</exception>
        public MimeMessage Fill(EncodedEmail issue, PersonalFields fields, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
        {
            ArgumentNullException.ThrowIfNull(issue);
            if (_buffers is not null)
            {
                return Fill(issue.Personalize(fields, _buffers), recipient, unsubscribeUrl, messageIdLocalPart);
            }
            var email = issue.Prepared.Personalize(fields);
            _text.SetText(Encoding.UTF8, email.Text);
            _html.SetText(Encoding.UTF8, email.Html);
            return Finish(recipient, unsubscribeUrl, messageIdLocalPart);
        }

        /// <summary>The message for one recipient around bodies already encoded, signed when DKIM is configured. Valid until the next call.</summary>
        /// <exception cref="ArgumentException">The recipient is not exactly one address, or the link is not one absolute http(s) address.</exception>
        public MimeMessage Fill(EncodedBody body, Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
        {
            if (_buffers is null)
            {
                throw new InvalidOperationException("This sender's message encodes its bodies itself.");
            }
            _text.Content = Content(body.Text);
            _html.Content = Content(body.Html);
            return Finish(recipient, unsubscribeUrl, messageIdLocalPart);
        }

        private MimeMessage Finish(Recipient recipient, string unsubscribeUrl, string messageIdLocalPart)
        {
            ArgumentNullException.ThrowIfNull(recipient);
            var to = RecipientAddress(recipient);
            if (!EmailMarkdown.IsAbsoluteWebUrl(unsubscribeUrl) || unsubscribeUrl.Any(IsBreaking))
            {
                throw new ArgumentException("The unsubscribe link must be one absolute http(s) address.", nameof(unsubscribeUrl));
            }
            var factory = _factory;
            var message = _message;
            message.To[0] = to;
            message.Date = factory._time.GetUtcNow();
            message.MessageId = $"{LocalPart(messageIdLocalPart)}@{factory._messageIdDomain.Value}";
            message.Headers["List-Unsubscribe"] = ListUnsubscribe(_edition, unsubscribeUrl, factory._messageOptions.Value.UnsubscribeMailto);

            // Checkpoint for DKIM: encodings are settled here (quoted-printable, 7-bit clean, lines within
            // 76), so neither MailKit nor a relay has a reason to re-encode the body after it has been signed.
            message.Prepare(EncodingConstraint.SevenBit, 78);
            message.Headers.RemoveAll(HeaderId.DkimSignature); // the previous recipient's
            factory._dkim.Sign(message);
            return message;
        }

        /// <summary>A quoted-printable body part; pre-encoded, its content is already encoded (see <see cref="Content"/>).</summary>
        private static TextPart NewPart(TextFormat format, bool preEncoded)
        {
            var part = preEncoded ? new PreEncodedTextPart(format) : new TextPart(format);
            part.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
            part.ContentType.Charset = "utf-8";
            return part;
        }

        /// <summary>The content's encoding equals the part's transfer encoding, so MimeKit copies it out
        /// unchanged (only normalising line ends, which are CRLF already).</summary>
        private static MimeContent Content(EncodedPart content) => new(
            new MemoryStream(content.Buffer, 0, content.Length, writable: false, publiclyVisible: true),
            ContentEncoding.QuotedPrintable);
    }

    /// <summary>
    /// The envelope sender (SMTP MAIL FROM) for one recipient: with VERP on, <c>bounces+TOKEN@domain</c>
    /// naming the publication and subscriber; otherwise the edition's From address.
    /// </summary>
    public MailboxAddress EnvelopeFrom(EditionOptions edition, Recipient recipient, int? publicationId = null) =>
        verp.For(publicationId ?? 0, Math.Max(0, recipient.SubscriberId))
        ?? new MailboxAddress("", FromAddress(edition).Address);

    /// <summary>A fresh address object per message (MimeKit's address lists subscribe to their
    /// addresses' change events, so an instance must never be shared between messages); parsed once per edition.</summary>
    private MailboxAddress FromAddress(EditionOptions edition)
    {
        var (name, address) = _fromAddresses.GetOrAdd(edition.From ?? "", static from =>
        {
            var parsed = MailboxAddress.Parse(OneLine(from));
            return (OneLine(parsed.Name), parsed.Address);
        });
        return new MailboxAddress(name, address);
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

    /// <summary>A Message-ID local part of safe atom characters only.</summary>
    private static string LocalPart(string value)
    {
        if (value.Length > 0 && value[0] != '.' && value[^1] != '.' && !value.Contains("..", StringComparison.Ordinal)
            && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+'))
        {
            return value; // already what the loop below would make of it (the delivery engine's ids)
        }
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

/// <summary>
/// A text part whose content is quoted-printable with CRLF line ends already (<see cref="EncodedPart"/>):
/// written as it is, where MimeKit would pass the whole content through its line-end filter again.
/// </summary>
/// <remarks>
/// The filter finds nothing to change in CRLF text but still reads every byte. The short cut is taken
/// only for CRLF output of content that is still the quoted-printable buffer
/// <see cref="MessageFactory.SenderMessage"/> gave it; anything else goes through MimeKit as usual.
/// </remarks>
internal sealed class PreEncodedTextPart(TextFormat format) : TextPart(format)
{
    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!TryGetRaw(options, out var raw))
        {
            base.WriteTo(options, stream, contentOnly, cancellationToken);
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (!contentOnly)
        {
            Headers.WriteTo(options, stream, cancellationToken); // ends with the blank line
        }
        stream.Write(raw.Span);
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!TryGetRaw(options, out var raw))
        {
            await base.WriteToAsync(options, stream, contentOnly, cancellationToken);
            return;
        }
        if (!contentOnly)
        {
            await Headers.WriteToAsync(options, stream, cancellationToken); // ends with the blank line
        }
        await stream.WriteAsync(raw, cancellationToken);
    }

    private bool TryGetRaw(FormatOptions options, out ReadOnlyMemory<byte> raw)
    {
        raw = default;
        if (options.NewLineFormat != NewLineFormat.Dos
            || ContentTransferEncoding != ContentEncoding.QuotedPrintable
            || Content is not { Encoding: ContentEncoding.QuotedPrintable, Stream: MemoryStream memory }
            || !memory.TryGetBuffer(out var segment)
            || segment.Count < 2 || segment[^2] != '\r' || segment[^1] != '\n')
        {
            return false;
        }
        raw = segment.AsMemory();
        return true;
    }
}
