using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <summary>
/// Bounces without a machine-readable report: Exim's and Postfix's text bounces, Exchange and Gmail notices
/// that lost their report part, Yahoo's plain text. One counts only when it is evidently from a mail system
/// and its own text (never the returned copy of our message) names both a failed recipient and an SMTP status.
/// </summary>
internal static partial class PlainBounces
{
    // Bounce prose and the SMTP reply sit near the top; a huge body must cost no more than this.
    private const int MaxScannedChars = 64 * 1024;

    // The bounce was delivered to us at these; the failed recipient is never one of them.
    private static readonly string[] EnvelopeFields = ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"];

    public static BounceReading Read(MimeMessage message)
    {
        if (!SentByMailSystem(message))
        {
            if (!HasNullSender(message))
            {
                return None("not a delivery status notification or feedback report");
            }
            // Careless autoresponders send with an empty envelope sender too; alone it needs a subject that says delivery failed.
            if (!FailureSubject().IsMatch(message.Subject ?? ""))
            {
                return None("an empty envelope sender, but nothing else says a mail system sent it");
            }
        }
        try
        {
            return ReadText(message, OwnText(message));
        }
        catch (RegexMatchTimeoutException)
        {
            return None("a message from a mail system too tangled to read; left alone");
        }
    }

    /// <summary>From a mail system by who sent it, not merely by an empty envelope sender (vacation replies have that too).</summary>
    public static bool SentByMailSystem(MimeMessage message) =>
        message.Headers.Contains("X-Failed-Recipients")
        || message.Headers.Contains("X-MS-Exchange-Message-Is-Ndr")
        || message.From.Mailboxes.Any(IsDaemon);

    /// <summary>A returned original that is itself a bounce or report: answering it would feed a loop between mail systems.</summary>
    public static bool IsAboutAReport(MimeMessage message) =>
        MessageParts.Originals(message).Any(original =>
            HasNullSender(original)
            || original.From.Mailboxes.Any(IsDaemon)
            || original.Body is MultipartReport
            || (original.Headers[HeaderId.ContentType] ?? "").Contains("multipart/report", StringComparison.OrdinalIgnoreCase));

    private static BounceReading ReadText(MimeMessage message, string text)
    {
        if (IsDelayNotice(message.Subject ?? "", text))
        {
            return None("a delay notice: the mail system is still trying");
        }
        if (FindStatus(text) is not { } status)
        {
            return None("from a mail system, but no SMTP status could be found in its text");
        }
        var ours = message.To.Mailboxes.Concat(message.Cc.Mailboxes).Select(m => m.Address)
            .Concat(message.Headers.Where(h => EnvelopeFields.Contains(h.Field, StringComparer.OrdinalIgnoreCase)).Select(h => h.Value))
            .Select(a => a.Trim().Trim('<', '>').ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);
        if (FailedRecipient(message, text, status, ours) is not { } recipient)
        {
            return None("from a mail system, but it names no failed recipient");
        }
        if (message.From.Mailboxes.Any(m => string.Equals(m.Address, recipient, StringComparison.OrdinalIgnoreCase)))
        {
            return None("the failed address is the message's own sender, so it is not a bounce");
        }
        var (kind, reason) = Judge(status);
        return new BounceReading(kind, recipient, status.Code, status.Diagnostic, reason + ", in a bounce without a report part");
    }

    private sealed record Status(string Code, string? Basic, string? Enhanced, int Index, string Diagnostic);

    /// <summary>An enhanced status with its basic reply code first, then an enhanced status alone, then a basic code where replies start.</summary>
    private static Status? FindStatus(string text)
    {
        if (BasicAndEnhanced().Match(text) is { Success: true } both)
        {
            return Found(text, both, both.Groups["enhanced"].Value, both.Groups["basic"].Value, both.Groups["enhanced"].Value);
        }
        if (EnhancedAlone().Match(text) is { Success: true } enhanced)
        {
            return Found(text, enhanced, enhanced.Groups["enhanced"].Value, null, enhanced.Groups["enhanced"].Value);
        }
        if (BasicAlone().Match(text) is { Success: true } basic)
        {
            return Found(text, basic, basic.Groups["basic"].Value, basic.Groups["basic"].Value, null);
        }
        return null;
    }

    private static Status Found(string text, Match match, string code, string? basic, string? enhanced)
    {
        var start = match.Groups["basic"].Success ? match.Groups["basic"].Index : match.Groups["enhanced"].Index;
        return new Status(code, basic, enhanced, start, DiagnosticFrom(text, start));
    }

    /// <summary>The reply from the status to the end of its line, with indented continuation lines (Postfix and Exim wrap).</summary>
    private static string DiagnosticFrom(string text, int start)
    {
        var builder = new StringBuilder();
        var lines = text[start..Math.Min(text.Length, start + 1000)].Split('\n');
        builder.Append(lines[0].Trim());
        foreach (var line in lines.Skip(1).Take(3))
        {
            if (line.Length == 0 || !char.IsWhiteSpace(line[0]) || line.Trim().Length == 0)
            {
                break;
            }
            builder.Append(' ').Append(line.Trim());
        }
        var diagnostic = Whitespace().Replace(builder.ToString(), " ").Trim().TrimEnd('\'', '"');
        return diagnostic.Length > 300 ? diagnostic[..300] : diagnostic;
    }

    private static (BounceKind Kind, string Reason) Judge(Status status)
    {
        if (status.Enhanced is not null)
        {
            return BounceReader.Judge(status.Enhanced);
        }
        var code = status.Code;
        if (code.StartsWith('4'))
        {
            return (BounceKind.Soft, $"not delivered for now ({code}); counted");
        }
        if (code == "552" || MailboxFull().IsMatch(status.Diagnostic))
        {
            return (BounceKind.Soft, $"the reader's mailbox is full ({code}); counted");
        }
        if (code is "550" or "551" or "553" or "554" && NoSuchUser().IsMatch(status.Diagnostic))
        {
            return (BounceKind.Hard, $"the recipient's server said the address does not exist ({code})");
        }
        return (BounceKind.Soft, $"refused for a reason that is not the address ({code}); counted, not suppressed");
    }

    /// <summary>X-Failed-Recipients when present; otherwise the last address before the status, or one in the reply itself.</summary>
    private static string? FailedRecipient(MimeMessage message, string text, Status status, HashSet<string> ours)
    {
        bool Usable(string address) => !ours.Contains(address) && !IsDaemonAddress(address);
        var listed = (message.Headers["X-Failed-Recipients"] ?? "").Split(',')
            .Select(a => EmailAddress().Match(a)).Where(m => m.Success).Select(m => m.Value.ToLowerInvariant());
        if (listed.FirstOrDefault(Usable) is { } header)
        {
            return header;
        }
        var before = EmailAddress().Matches(text[..status.Index]).Select(m => m.Value.ToLowerInvariant()).Where(Usable).LastOrDefault();
        return before ?? EmailAddress().Matches(status.Diagnostic).Select(m => m.Value.ToLowerInvariant()).FirstOrDefault(Usable);
    }

    private static bool IsDelayNotice(string subject, string text) => DelaySubject().IsMatch(subject) || DelayText().IsMatch(text);

    /// <summary>The decoded text/plain parts of the message itself, up to the cap, cut where an inline copy of the original starts.</summary>
    private static string OwnText(MimeMessage message)
    {
        var builder = new StringBuilder();
        foreach (var part in MessageParts.Walk(message.Body, maxDepth: 3).OfType<TextPart>())
        {
            if (!part.IsPlain || part.IsAttachment || builder.Length >= MaxScannedChars)
            {
                continue;
            }
            builder.Append(Decode(part, MaxScannedChars - builder.Length)).Append('\n');
        }
        var text = builder.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        return InlineOriginal().Match(text) is { Success: true } copy ? text[..copy.Index] : text;
    }

    private static string Decode(TextPart part, int budget)
    {
        if (part.Content is null)
        {
            return "";
        }
        using var stream = part.Content.Open();
        var buffer = new byte[budget];
        int read, total = 0;
        while (total < budget && (read = stream.Read(buffer, total, budget - total)) > 0)
        {
            total += read;
        }
        Encoding encoding;
        try
        {
            encoding = part.ContentType.CharsetEncoding ?? Encoding.UTF8;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            encoding = Encoding.UTF8;
        }
        return encoding.GetString(buffer, 0, total);
    }

    internal static bool HasNullSender(MimeMessage message) =>
        message.Headers[HeaderId.ReturnPath] is { } returnPath && returnPath.Replace(" ", "", StringComparison.Ordinal).Trim() is "" or "<>";

    private static bool IsDaemon(MailboxAddress mailbox) =>
        IsDaemonAddress(mailbox.Address) || (mailbox.Name ?? "").StartsWith("Mail Delivery", StringComparison.OrdinalIgnoreCase);

    private static bool IsDaemonAddress(string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        var local = at < 0 ? address : address[..at];
        return local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase);
    }

    private static BounceReading None(string reason) => new(BounceKind.None, null, null, null, reason);

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Multiline;
    private const int Timeout = 500;

    // "550 5.1.1", "550-5.1.1", "550 #5.1.1", "'550 5.1.10 RESOLVER…": the reply code and its enhanced status together.
    [GeneratedRegex(@"(?<![\w.])(?<basic>[45]\d\d)(?:[ \t]+|-)#?(?<enhanced>[45]\.[0-7]\.\d{1,3})(?!\w|\.\d)", Options, Timeout)]
    private static partial Regex BasicAndEnhanced();

    [GeneratedRegex(@"(?<![\w.#])#?(?<enhanced>[45]\.[0-7]\.\d{1,3})(?!\w|\.\d)", Options, Timeout)]
    private static partial Regex EnhancedAlone();

    // A bare reply code only where replies begin, so a street number or a count in prose is never read as one.
    [GeneratedRegex(@"(?:^[ \t]*|said:[ \t]*|returned[ \t]+'|was:\s*|error:[ \t]*)(?<basic>[45][0-5]\d)(?=[ \t:-])", Options, Timeout)]
    private static partial Regex BasicAlone();

    [GeneratedRegex(@"[a-z0-9._%+!#$&'*/=?^{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", Options, Timeout)]
    private static partial Regex EmailAddress();

    [GeneratedRegex(@"user unknown|unknown (?:user|recipient)|no such (?:user|mailbox|recipient)|does ?n[o']t exist|recipient not found|does ?n[o']t have an? [\w.-]+ account|(?<!sender )address rejected", Options, Timeout)]
    private static partial Regex NoSuchUser();

    [GeneratedRegex(@"mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:the |their |its )?(?:storage|quota)|insufficient (?:system )?storage", Options, Timeout)]
    private static partial Regex MailboxFull();

    [GeneratedRegex(@"undeliver|deliver(?:y|ed)|failure|failed|returned|bounce", Options, Timeout)]
    private static partial Regex FailureSubject();

    [GeneratedRegex(@"^\s*(?:warning:|delayed mail)|\(delay\)|delivery delayed", Options, Timeout)]
    private static partial Regex DelaySubject();

    [GeneratedRegex(@"not yet been delivered|delivery attempts will continue|will (?:continue to )?(?:be )?retr(?:y|ied)|still (?:trying|being retried)|warning message only|do not need to resend", Options, Timeout)]
    private static partial Regex DelayText();

    // Where Exim, Yahoo, Exchange and others paste the original inline: our own text follows and is never read.
    [GeneratedRegex(@"^[ \t]*(?:-{2,}[ \t]*(?:this is a copy of|below this line is a copy|original message|forwarded message)|original message headers:)", Options, Timeout)]
    private static partial Regex InlineOriginal();

    [GeneratedRegex(@"\s+", RegexOptions.None, Timeout)]
    private static partial Regex Whitespace();
}

/// <summary>A bounded walk over a message's MIME tree that never enters an attached message.</summary>
internal static class MessageParts
{
    private const int MaxParts = 64;

    public static List<MimeEntity> Walk(MimeEntity? root, int maxDepth)
    {
        var parts = new List<MimeEntity>();
        Collect(root, 0);
        return parts;

        void Collect(MimeEntity? entity, int depth)
        {
            if (entity is null || parts.Count >= MaxParts)
            {
                return;
            }
            parts.Add(entity);
            if (entity is Multipart multipart && depth < maxDepth)
            {
                foreach (var child in multipart)
                {
                    if (parts.Count >= MaxParts)
                    {
                        break;
                    }
                    Collect(child, depth + 1);
                }
            }
        }
    }

    /// <summary>The returned originals (message/rfc822, text/rfc822-headers) in the report or one multipart below it.</summary>
    public static IEnumerable<MimeMessage> Originals(MimeMessage message) =>
        Walk(message.Body, maxDepth: 2).OfType<MessagePart>().Select(p => p.Message).OfType<MimeMessage>();
}
