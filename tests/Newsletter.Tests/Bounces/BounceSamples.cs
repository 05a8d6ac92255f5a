namespace Newsletter.Tests.Bounces;

/// <summary>Returned messages built for a test's own readers and VERP addresses (the corpus holds fixed samples).</summary>
internal static class BounceSamples
{
    private static int _next;

    private static string Id() => $"<{Interlocked.Increment(ref _next)}.{Guid.NewGuid():N}@mx.example.net>";

    /// <summary>An RFC 3464 report sent back to <paramref name="to"/> (a VERP address, or our plain bounce address).</summary>
    public static string Dsn(string to, string recipient, string status, string action = "failed", string? messageId = null) => $"""
        Return-Path: <>
        Delivered-To: {to}
        From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
        To: {to}
        Subject: Undelivered Mail Returned to Sender
        Message-ID: {messageId ?? Id()}
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="r1"

        --r1
        Content-Type: text/plain

        Your message could not be delivered to one recipient.

        --r1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; {recipient}
        Action: {action}
        Status: {status}
        Diagnostic-Code: smtp; {(status.StartsWith('5') ? "550" : "450")} {status} mailbox said no

        --r1
        Content-Type: text/rfc822-headers

        From: Tips <tips@news.example.org>
        To: {recipient}
        Subject: Tip of the Week

        --r1--

        """.ReplaceLineEndings("\r\n");

    /// <summary>An RFC 5965 feedback report from a mailbox provider's loop: only the original's Return-Path names us.</summary>
    public static string Complaint(string verp, string recipient) => $"""
        From: Feedback Loop <fbl@isp.example.net>
        To: abuse@news.example.org
        Subject: Complaint about message from news.example.org
        Message-ID: {Id()}
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="f1"

        --f1
        Content-Type: text/plain

        This is an abuse report for a message received by one of our users.

        --f1
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: ExampleFBL/1.0
        Version: 1

        --f1
        Content-Type: message/rfc822

        Return-Path: <{verp}>
        From: Tips <tips@news.example.org>
        To: {recipient}
        Subject: Tip of the Week

        A tip.

        --f1--

        """.ReplaceLineEndings("\r\n");

    public static string OutOfOffice(string to, string from) => $"""
        From: {from}
        To: {to}
        Subject: Out of office: Tip of the Week
        Message-ID: {Id()}
        Auto-Submitted: auto-replied
        Content-Type: text/plain

        I am away until Monday. 550 5.1.1 is not my problem.

        """.ReplaceLineEndings("\r\n");

    /// <summary>A person writing to the bounce address: never a bounce, and over POP3 never deleted.</summary>
    public static string FromAPerson(string to) => $"""
        From: Sam <sam@example.com>
        To: {to}
        Subject: Question about the newsletter
        Message-ID: {Id()}
        Content-Type: text/plain

        Hello, how do I change my address?

        """.ReplaceLineEndings("\r\n");
}
