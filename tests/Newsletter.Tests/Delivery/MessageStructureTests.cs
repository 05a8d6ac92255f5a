using System.Text;
using MimeKit;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Issues;

namespace Newsletter.Tests.Delivery;

/// <summary>Each edition's message, serialized as it goes on the wire and parsed back with MimeKit.</summary>
public sealed class MessageStructureTests
{
    public static TheoryData<string> Editions => new(TestData.Editions);

    private static readonly string[] HeadersOnce =
    [
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
    ];

    [Theory]
    [MemberData(nameof(Editions))]
    public async Task Every_edition_is_multipart_alternative_with_utf8_text_first_and_html_last(string edition)
    {
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync(edition)));

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(2, alternative.Count);
        var text = Assert.IsType<TextPart>(alternative[0]);
        var html = Assert.IsType<TextPart>(alternative[1]);
        Assert.Equal("text/plain", text.ContentType.MimeType);
        Assert.Equal("text/html", html.ContentType.MimeType);
        Assert.Equal("utf-8", text.ContentType.Charset, ignoreCase: true);
        Assert.Equal("utf-8", html.ContentType.Charset, ignoreCase: true);
        Assert.Equal(ContentEncoding.QuotedPrintable, text.ContentTransferEncoding);
        Assert.Equal(ContentEncoding.QuotedPrintable, html.ContentTransferEncoding);
        Assert.Equal("1.0", message.Headers[HeaderId.MimeVersion]);
    }

    [Theory]
    [MemberData(nameof(Editions))]
    public async Task Every_edition_carries_each_required_header_exactly_once(string edition)
    {
        var raw = MessageKit.Serialize(await MessageKit.BuildAsync(edition));
        var headers = MessageKit.HeaderLines(raw);

        foreach (var name in HeadersOnce)
        {
            Assert.True(MessageKit.Count(headers, name) == 1, $"{name} appears {MessageKit.Count(headers, name)} times:\n{string.Join("\n", headers)}");
        }
        Assert.Equal(0, MessageKit.Count(headers, "Reply-To"));
        Assert.Equal(0, MessageKit.Count(headers, "Feedback-ID"));
        Assert.Equal(0, MessageKit.Count(headers, "DKIM-Signature"));
        Assert.Equal(0, MessageKit.Count(headers, "Cc"));
        Assert.Equal(0, MessageKit.Count(headers, "Bcc"));
    }

    [Theory]
    [MemberData(nameof(Editions))]
    public async Task Every_edition_has_its_list_headers_message_id_on_the_configured_domain_and_date(string edition)
    {
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync(edition)));
        var options = MessageKit.Editions().Get(edition);

        Assert.Equal(options.ListId, message.Headers["List-Id"]);
        Assert.Equal($"<{MessageKit.UnsubscribeUrl()}>", message.Headers["List-Unsubscribe"]);
        Assert.StartsWith("<https://", message.Headers["List-Unsubscribe"], StringComparison.Ordinal);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("7.42.1001@mail.news.example.org", message.MessageId);
        Assert.Equal(MessageKit.Now, message.Date);
        Assert.Equal(MailboxAddress.Parse(options.From).ToString(), Assert.Single(message.From).ToString());
        Assert.Equal(MessageKit.Sam.Email, Assert.Single(message.To.Mailboxes).Address);
        Assert.Empty(message.Cc);
        Assert.Empty(message.Bcc);
    }

    [Theory]
    [MemberData(nameof(Editions))]
    public async Task Every_edition_has_no_line_longer_than_998_characters(string edition)
    {
        var raw = MessageKit.Serialize(await MessageKit.BuildAsync(edition));

        var lines = Encoding.ASCII.GetString(raw).Split("\r\n");
        Assert.All(lines, line => Assert.True(line.Length <= 998, $"a line of {line.Length} characters"));
        Assert.DoesNotContain(raw, b => b > 127);
    }

    [Theory]
    [MemberData(nameof(Editions))]
    public async Task Every_edition_keeps_its_html_under_gmails_clip_and_its_text_part_carries_the_unsubscribe_link(string edition)
    {
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync(edition)));

        var html = message.HtmlBody ?? "";
        var text = message.TextBody ?? "";
        Assert.InRange(Encoding.UTF8.GetByteCount(html), 5_000, IssueQueue.MaxHtmlBytes);
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Contains(MessageKit.UnsubscribeUrl(), text, StringComparison.Ordinal);
        Assert.Contains(MessageKit.UnsubscribeUrl(), html, StringComparison.Ordinal);
        Assert.Contains(MessageKit.Sample(edition).Subject, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Non_ascii_words_survive_the_round_trip_in_subject_name_and_body()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        email = email with { Subject = "Tip: café, naïve and “quotes” — 🌱", Text = email.Text + "\nZoë says héllo 🌱\n" };
        var message = MessageKit.Factory().Build(MessageKit.Editions().Get("weekly-tip"), email,
            new Worker.Delivery.Recipient(1, "zoe@example.com", "Zoë Ñúñez"), MessageKit.UnsubscribeUrl(1), "1.1.1");

        var parsed = MessageKit.Parse(MessageKit.Serialize(message));

        Assert.Equal("Tip: café, naïve and “quotes” — 🌱", parsed.Subject);
        Assert.Equal("Zoë Ñúñez", Assert.Single(parsed.To.Mailboxes).Name);
        Assert.Contains("Zoë says héllo 🌱", parsed.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reply_to_the_mailto_unsubscribe_and_feedback_id_appear_once_each_when_configured()
    {
        var options = new MessageOptions
        {
            ReplyTo = "Steady Ground Team <hello@example.org>",
            UnsubscribeMailto = "unsubscribe@example.org",
            FeedbackIdSender = "steadyground",
        };
        var raw = MessageKit.Serialize(await MessageKit.BuildAsync("weekly-fact", options));
        var headers = MessageKit.HeaderLines(raw);
        var message = MessageKit.Parse(raw);

        Assert.Equal(1, MessageKit.Count(headers, "Reply-To"));
        Assert.Equal(1, MessageKit.Count(headers, "Feedback-ID"));
        Assert.Equal("hello@example.org", Assert.Single(message.ReplyTo.Mailboxes).Address);
        Assert.Equal("weekly-fact:newsletter:steadyground", message.Headers["Feedback-ID"]);
        Assert.Equal(
            $"<{MessageKit.UnsubscribeUrl()}>, <mailto:unsubscribe@example.org?subject=unsubscribe%20weekly-fact>",
            message.Headers["List-Unsubscribe"]!.Replace("\r\n", "", StringComparison.Ordinal).Replace(">,  <", ">, <", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_recipient_address_that_is_really_a_list_is_refused_rather_than_mailing_two_people()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var factory = MessageKit.Factory();
        var edition = MessageKit.Editions().Get("weekly-tip");

        foreach (var address in new[] { "a@example.com, b@example.com", "a@example.com;b@example.com", "Friends: a@example.com, b@example.com;", "a@example.com\r\nBcc: b@example.com", "not-an-address", "" })
        {
            Assert.Throws<ArgumentException>(() => factory.Build(edition, email, new Worker.Delivery.Recipient(1, address, null), MessageKit.UnsubscribeUrl(), "1.1.1"));
        }
    }

    [Fact]
    public async Task A_relative_or_script_unsubscribe_link_is_refused()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var factory = MessageKit.Factory();
        var edition = MessageKit.Editions().Get("weekly-tip");

        Assert.Throws<ArgumentException>(() => factory.Build(edition, email, MessageKit.Sam, "/unsubscribe/x", "1.1.1"));
        Assert.Throws<ArgumentException>(() => factory.Build(edition, email, MessageKit.Sam, "javascript:alert(1)", "1.1.1"));
        Assert.Throws<ArgumentException>(() => factory.Build(edition, email, MessageKit.Sam, "https://news.example.org/u\r\nBcc: x@example.com", "1.1.1"));
    }
}
