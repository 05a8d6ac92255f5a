using MimeKit;
using Newsletter.Subscribers.Addresses;

namespace Newsletter.Worker.Delivery;

/// <summary>Where messages go. The delivery engine needs only this; SMTP and the pickup folder
/// are adapters at the edge.</summary>
public interface IMailTransport
{
    /// <summary>Opens a connection to be reused for many messages. Throws <see cref="MailTransportException"/>
    /// when the server cannot be reached.</summary>
    Task<IMailConnection> OpenAsync(CancellationToken cancellationToken);
}

public interface IMailConnection : IAsyncDisposable
{
    /// <summary>False once the connection cannot carry another message: the server closed it, or the
    /// transport gave it up after a reply (see <see cref="BatchingSocketStream"/>). The caller then opens
    /// a new one for the next message; nothing was lost and nothing is to be counted as an error.</summary>
    bool IsOpen { get; }

    /// <summary>Hands one message to the server and says how it answered. Never throws for a
    /// reply from the server; a broken connection is <see cref="SendStatus.ConnectionLost"/>,
    /// after which the connection is not used again.</summary>
    Task<SendResult> SendAsync(MimeMessage message, MailboxAddress envelopeFrom, MailboxAddress envelopeTo,
        CancellationToken cancellationToken);
}

public enum SendStatus
{
    /// <summary>The server accepted the message (2xx after DATA).</summary>
    Accepted,

    /// <summary>4xx about this recipient or message: try again later.</summary>
    TemporaryFailure,

    /// <summary>5xx about this recipient or message: do not try again.</summary>
    PermanentFailure,

    /// <summary>421, or an x.7.x status: policy, reputation or throttling. The sender's problem:
    /// slow down and retry; never held against the recipient.</summary>
    SenderThrottled,

    /// <summary>The connection broke; the message may or may not have arrived and is retried.</summary>
    ConnectionLost,
}

/// <summary>The outcome of one message: the status, the SMTP code and enhanced status when there
/// was a reply, and the reply text.</summary>
public sealed record SendResult(SendStatus Status, int Code, string? EnhancedStatus, string Reply)
{
    /// <summary>The reply with any address in it masked (<c>j***@example.org</c>): servers quote the
    /// recipient, and every reply is stored, logged or both. Done here, where all replies pass.</summary>
    public string Reply { get; init; } = AddressMask.Mask(Reply);

    public static SendResult Accepted(string reply) => new(SendStatus.Accepted, 250, null, reply);

    /// <summary>A 5.1.x status: the mailbox does not exist or cannot be addressed.</summary>
    public bool IsBadMailbox => Status == SendStatus.PermanentFailure && EnhancedStatus?.StartsWith("5.1.", StringComparison.Ordinal) == true;

    /// <summary>The server refused the envelope sender (MAIL FROM): whatever the code, that is about
    /// us, not the recipient, so it is handled as throttling (slow down, retry, never suppress).</summary>
    public static SendResult SenderRefused(int code, string reply) =>
        new(SendStatus.SenderThrottled, code, ParseEnhancedStatus(reply), $"{code} {reply}".Trim());

    /// <summary>Sorts a server reply the way the design asks: 421 and x.7.x are the sender's
    /// problem, other 4xx are temporary, other 5xx permanent.</summary>
    public static SendResult FromReply(int code, string reply)
    {
        var enhanced = ParseEnhancedStatus(reply);
        var status = code switch
        {
            421 => SendStatus.SenderThrottled,
            >= 400 and < 600 when enhanced is { } e && e.Length > 2 && e[1] == '.' && e[2] == '7' => SendStatus.SenderThrottled,
            >= 400 and < 500 => SendStatus.TemporaryFailure,
            >= 500 and < 600 => SendStatus.PermanentFailure,
            >= 200 and < 300 => SendStatus.Accepted,
            _ => SendStatus.TemporaryFailure,
        };
        return new SendResult(status, code, enhanced, $"{code} {reply}".Trim());
    }

    /// <summary>The RFC 3463 status at the start of a reply text ("5.1.1 user unknown" → "5.1.1").</summary>
    public static string? ParseEnhancedStatus(string reply)
    {
        var span = reply.AsSpan().TrimStart();
        var end = span.IndexOfAny(' ', '\t');
        var candidate = (end < 0 ? span : span[..end]).ToString();
        var parts = candidate.Split('.');
        return parts.Length == 3 && parts[0] is "2" or "4" or "5"
            && parts[1].Length is > 0 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is > 0 and <= 3 && parts[2].All(char.IsAsciiDigit)
            ? candidate
            : null;
    }
}

/// <summary>The server could not be reached or refused the session (not a per-message answer).</summary>
public sealed class MailTransportException(string message, Exception? inner = null) : Exception(message, inner);
