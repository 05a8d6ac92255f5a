namespace Newsletter.Tests.Infrastructure.Smtp;

/// <summary>
/// How a <see cref="TestSmtpServer"/> answers. Immutable: change behaviour while the server runs
/// by assigning a new script to <see cref="TestSmtpServer.Script"/> (use <c>with</c> to tweak one).
/// </summary>
public sealed record SmtpScript
{
    /// <summary>Accept every recipient and every message; never drop a connection.</summary>
    public static SmtpScript AcceptAll { get; } = new();

    /// <summary>
    /// Called once per <c>RCPT TO</c> with the recipient address (<c>user@host</c>, as the client
    /// sent it) and the attempt number: how many times the server has now seen that recipient,
    /// across all connections and restarts of this <see cref="TestSmtpServer"/>, starting at 1.
    /// <c>null</c> accepts everyone. A callback that throws is answered with 451 4.3.0.
    /// </summary>
    public Func<string, int, SmtpReplyDecision>? OnRcptTo { get; init; }

    /// <summary>
    /// One-shot fault: once the server has accepted this many messages in total (counting every
    /// message captured since the server was created), the connection that delivered the message
    /// that reached the count is closed abruptly (TCP reset). Armed when the script is assigned;
    /// fires once. See <see cref="DropPoint"/> for whether the client sees the 250 first.
    /// </summary>
    public int? DropConnectionAfterMessages { get; init; }

    /// <summary>Where the <see cref="DropConnectionAfterMessages"/> fault strikes.</summary>
    public DropPoint DropPoint { get; init; } = DropPoint.AfterReply;

    /// <summary>A script whose only rule is <paramref name="onRcptTo"/>.</summary>
    public static SmtpScript ForRecipients(Func<string, int, SmtpReplyDecision> onRcptTo) =>
        new() { OnRcptTo = onRcptTo };
}

/// <summary>Where a scripted connection drop happens relative to the accepted message's reply.</summary>
public enum DropPoint
{
    /// <summary>
    /// The message is captured and its 250 reply reaches the client; then the connection is reset,
    /// so the client's next command on it fails. A clean "connection lost between messages".
    /// </summary>
    AfterReply,

    /// <summary>
    /// The message is captured but the connection is reset before the 250 is written: the client
    /// sees its send fail although the server kept the message (the at-least-once duplicate window).
    /// </summary>
    BeforeReply,
}

/// <summary>When a scripted non-accept reply is sent.</summary>
public enum SmtpReplyStage
{
    /// <summary>As the reply to <c>RCPT TO</c> (SmtpServer's mailbox filter). The recipient is not added to the transaction.</summary>
    Rcpt,

    /// <summary>
    /// The <c>RCPT TO</c> gets 250; the reply is sent after the message body (<c>DATA</c> … <c>.</c>),
    /// from the message store, and the message is not captured. If several recipients of one
    /// message are scripted this way, the first one's reply wins.
    /// </summary>
    EndOfData,
}

/// <summary>What the server answers for one recipient.</summary>
public sealed record SmtpReplyDecision
{
    SmtpReplyDecision(bool isAccept, int code, string enhancedStatus, string text, bool closeConnection)
    {
        IsAccept = isAccept;
        Code = code;
        EnhancedStatus = enhancedStatus;
        Text = text;
        CloseConnection = closeConnection;
    }

    /// <summary>The recipient is accepted (SmtpServer answers its own <c>250 Ok</c>).</summary>
    public static SmtpReplyDecision Accept { get; } = new(true, 250, "2.1.5", "Ok", false);

    /// <summary>
    /// Answer with <paramref name="code"/> (400–599), an RFC 3463 enhanced status such as
    /// <c>5.1.1</c>, and a human text. A 421 closes the connection after the reply, as RFC 5321
    /// requires; override with <c>with { CloseConnection = … }</c>.
    /// </summary>
    public static SmtpReplyDecision Reply(int code, string enhancedStatus, string text)
    {
        if (code is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "A scripted rejection needs a 4xx or 5xx reply code.");
        }

        if (text.Contains('\r') || text.Contains('\n') || enhancedStatus.Contains('\r') || enhancedStatus.Contains('\n'))
        {
            throw new ArgumentException("Reply text must be a single line.", nameof(text));
        }

        return new SmtpReplyDecision(false, code, enhancedStatus, text, closeConnection: code == 421);
    }

    /// <summary>450 4.2.0: mailbox busy, try again later.</summary>
    public static SmtpReplyDecision MailboxBusy { get; } = Reply(450, "4.2.0", "Mailbox busy, try again later");

    /// <summary>550 5.1.1: no such user.</summary>
    public static SmtpReplyDecision UserUnknown { get; } = Reply(550, "5.1.1", "No such user here");

    /// <summary>421 4.7.0: the server is shutting the door on this sender for now (closes the connection).</summary>
    public static SmtpReplyDecision ServiceNotAvailable { get; } = Reply(421, "4.7.0", "Too many messages, closing connection");

    /// <summary>451 4.7.1: throttled / greylisted, try again later.</summary>
    public static SmtpReplyDecision Throttled { get; } = Reply(451, "4.7.1", "Rate limited, try again later");

    public bool IsAccept { get; }

    /// <summary>The three-digit SMTP reply code.</summary>
    public int Code { get; }

    /// <summary>The RFC 3463 enhanced status code, e.g. <c>5.1.1</c>; written at the start of the reply text.</summary>
    public string EnhancedStatus { get; }

    public string Text { get; }

    /// <summary>When the reply is sent. Ignored for <see cref="Accept"/>.</summary>
    public SmtpReplyStage Stage { get; init; } = SmtpReplyStage.Rcpt;

    /// <summary>Whether the server closes the connection right after sending this reply (default: only for 421).</summary>
    public bool CloseConnection { get; init; }

    /// <summary>The same reply, sent after the message body instead of at <c>RCPT TO</c>.</summary>
    public SmtpReplyDecision AtEndOfData() => this with { Stage = SmtpReplyStage.EndOfData };

    public override string ToString() =>
        IsAccept ? "Accept" : $"{Code} {EnhancedStatus} {Text} (at {Stage}{(CloseConnection ? ", then close" : "")})";
}
