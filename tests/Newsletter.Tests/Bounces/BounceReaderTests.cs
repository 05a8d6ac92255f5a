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
}
