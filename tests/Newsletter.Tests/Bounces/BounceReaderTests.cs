using System.Text;
using MimeKit;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Bounces;

/// <summary>What a message from the bounce mailbox means: real-shaped delivery status notifications and
/// feedback reports are read by their machine-readable parts; auto-replies and anything else never count.</summary>
public sealed class BounceReaderTests
{
    private static MimeMessage Parse(string text) =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))));

    private static string Dsn(string action, string status, string diagnostic, string recipient = "reader@example.org") => $"""
        From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
        To: bounces+abc@news.example.org
        Subject: Undelivered Mail Returned to Sender
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not be delivered.

        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net
        Arrival-Date: Thu,  3 Dec 2026 09:00:01 +0000

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{recipient}
        Action: {action}
        Status: {status}
        Diagnostic-Code: smtp; {diagnostic}

        --b1
        Content-Type: text/rfc822-headers

        From: Tip of the Week <tips@news.example.org>
        To: {recipient}
        Subject: Tip of the Week

        --b1--
        """;

    [Theory]
    [InlineData("failed", "5.1.1", "550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown", BounceKind.Hard)]
    [InlineData("failed", "5.2.1", "550 5.2.1 The email account that you tried to reach is disabled", BounceKind.Hard)]
    [InlineData("failed", "5.2.2", "552 5.2.2 The email account that you tried to reach is over quota", BounceKind.Soft)]
    [InlineData("failed", "4.4.7", "Delivery time expired", BounceKind.Soft)]
    [InlineData("failed", "5.7.1", "554 5.7.1 Message rejected as spam by content filtering", BounceKind.Soft)]
    [InlineData("failed", "5.1.8", "553 5.1.8 Sender address domain does not exist", BounceKind.Soft)]
    [InlineData("delayed", "4.4.1", "Connection timed out", BounceKind.None)]
    [InlineData("delivered", "2.0.0", "250 2.0.0 OK", BounceKind.None)]
    public void A_delivery_status_notification_is_read_from_its_status_not_its_prose(string action, string status, string diagnostic, BounceKind expected)
    {
        // The DSN itself says Auto-Submitted, as RFC 3834 asks of every automatic message; it is still a report.
        var reading = BounceReader.Read(Parse(Dsn(action, status, diagnostic, "Reader@Example.org")));

        Assert.Equal(expected, reading.Kind);
        if (expected != BounceKind.None)
        {
            Assert.Equal(("reader@example.org", status, diagnostic), (reading.Recipient, reading.Status, reading.Diagnostic));
        }
        Assert.False(string.IsNullOrWhiteSpace(reading.Reason));
    }

    [Fact]
    public void A_feedback_report_is_a_complaint_about_the_original_recipient()
    {
        var reading = BounceReader.Read(Parse("""
            From: staff@hotmail.example
            To: fbl@news.example.org
            Subject: complaint about message
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

            --b2
            Content-Type: text/plain

            This is an email abuse report.

            --b2
            Content-Type: message/feedback-report

            Feedback-Type: abuse
            User-Agent: SomeGenerator/1.0
            Version: 1
            Original-Mail-From: <bounces+abc@news.example.org>
            Original-Rcpt-To: <kim@example.org>

            --b2
            Content-Type: message/rfc822

            From: Tip of the Week <tips@news.example.org>
            To: kim@example.org
            Subject: Tip of the Week

            Hello.

            --b2--
            """));

        Assert.Equal((BounceKind.Complaint, "kim@example.org"), (reading.Kind, reading.Recipient));
        Assert.Contains("abuse", reading.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Auto-Submitted: auto-replied")]
    [InlineData("X-Autoreply: yes")]
    [InlineData("Precedence: auto_reply")]
    [InlineData("X-Mailer: Some client")]
    public void An_out_of_office_or_any_other_plain_message_is_never_a_bounce(string header)
    {
        var reading = BounceReader.Read(Parse($"""
            From: reader@example.org
            To: bounces+abc@news.example.org
            Subject: Out of office: Tip of the Week
            {header}
            Content-Type: text/plain

            I am away until Monday. Delivery failed? No: 550 5.1.1 appears here only as text.
            """));

        Assert.Equal(BounceKind.None, reading.Kind);
        Assert.Null(reading.Recipient);
    }

    private static string TextBounce(string reply, string from = "Mail Delivery System <Mailer-Daemon@host.example.net>") => $"""
        Return-path: <>
        From: {from}
        To: bounces+abc@news.example.org
        Subject: Mail delivery failed: returning message to sender
        Content-Type: text/plain

        A message that you sent could not be delivered to one or more of its
        recipients. The following address(es) failed:

          reader@example.org
            {reply}
        """;

    [Theory]
    [InlineData("550 No such user here", BounceKind.Hard)]
    [InlineData("553 sorry, that mailbox does not exist", BounceKind.Hard)]
    [InlineData("550 Rejected by local policy", BounceKind.Soft)]
    [InlineData("550 Sender address rejected: domain not found", BounceKind.Soft)]
    [InlineData("552 Message exceeds the size limit", BounceKind.Soft)]
    [InlineData("550 Mailbox full", BounceKind.Soft)]
    [InlineData("450 User unknown, try later", BounceKind.Soft)]
    [InlineData("550 5.2.1 Account disabled", BounceKind.Hard)]
    [InlineData("452 4.2.2 Mailbox over quota", BounceKind.Soft)]
    [InlineData("the server gave up without saying why", BounceKind.None)]
    public void A_bounce_without_a_report_counts_by_its_reply_code_and_is_hard_only_for_a_missing_address(string reply, BounceKind expected)
    {
        var reading = BounceReader.Read(Parse(TextBounce(reply)));

        Assert.Equal(expected, reading.Kind);
        Assert.Equal(expected == BounceKind.None ? null : "reader@example.org", reading.Recipient);
    }

    [Fact]
    public void Only_the_first_64_KB_of_a_bounce_are_read()
    {
        var filler = string.Concat(Enumerable.Repeat("This line says nothing about the delivery at all.\n", 2000));

        var reading = BounceReader.Read(Parse(TextBounce(filler + "550 5.1.1 user unknown")));

        Assert.Equal(BounceKind.None, reading.Kind);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void Pathological_messages_read_as_nothing_without_throwing()
    {
        var thousands = new StringBuilder("Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\n"
            + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\r\n\r\n");
        for (var i = 0; i < 2000; i++)
        {
            thousands.Append(i % 2 == 0 ? "--x\r\nContent-Type: text/plain\r\n\r\nNothing to see.\r\n" : "--x\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\n\r\nHi\r\n");
        }
        thousands.Append("--x--\r\n");
        Multipart nested = new("mixed");
        var deepest = nested;
        for (var i = 0; i < 500; i++)
        {
            var inner = new Multipart("mixed");
            deepest.Add(inner);
            deepest = inner;
        }
        var deep = new MimeMessage { Subject = "Undeliverable", Body = nested };
        deep.Headers.Add(HeaderId.ReturnPath, "<>");
        // Random bytes where the machine-readable part and the text should be.
        var random = Encoding.ASCII.GetBytes("Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered\r\n"
            + "Content-Type: multipart/report; report-type=delivery-status; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain; charset=x-nonsense\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n").Concat(RandomBytes(2048))
            .Concat(Encoding.ASCII.GetBytes("\r\n--q\r\nContent-Type: message/delivery-status\r\n\r\n")).Concat(RandomBytes(4096)).ToArray();

        MimeMessage[] messages =
        [
            new MimeMessage(),
            Parse("From: MAILER-DAEMON@mx.example.net\r\nReturn-Path: <>\r\nSubject: Undelivered\r\n"),
            Parse(thousands.ToString()),
            deep,
            MimeMessage.Load(new MemoryStream(random)),
        ];

        foreach (var message in messages)
        {
            var reading = BounceReader.Read(message);
            Assert.Equal(BounceKind.None, reading.Kind);
            Assert.False(string.IsNullOrWhiteSpace(reading.Reason));
        }
    }
}
