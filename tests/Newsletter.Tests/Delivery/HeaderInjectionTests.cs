using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Issues;

namespace Newsletter.Tests.Delivery;

/// <summary>A line break in a value that ends up in a header can never forge a header: refused where it
/// enters (the queue), neutralised where the message is built.</summary>
public sealed class HeaderInjectionTests
{
    public static TheoryData<string> HostileValues => new()
    {
        "Hi\r\nBcc: x@example.com",
        "Hi\nBcc: x@example.com",
        "Hi\rBcc: x@example.com",
        "Hi\u2028Bcc: x@example.com",
        "Hi\u0085Bcc: x@example.com",
        "Hi\r\n\r\nBcc: x@example.com",
        "Hi\0Bcc: x@example.com",
    };

    private static void AssertOneSubjectAndNoBcc(byte[] raw)
    {
        var headers = MessageKit.HeaderLines(raw);
        Assert.Equal(1, MessageKit.Count(headers, "Subject"));
        Assert.Equal(0, MessageKit.Count(headers, "Bcc"));
        Assert.Equal(1, MessageKit.Count(headers, "To"));
        Assert.Equal(1, MessageKit.Count(headers, "From"));
        var parsed = MessageKit.Parse(raw);
        Assert.Empty(parsed.Bcc);
        Assert.Single(parsed.To.Mailboxes);
        Assert.Equal("sam@example.com", Assert.Single(parsed.To.Mailboxes).Address);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task A_hostile_subject_produces_one_subject_line_and_no_bcc(string subject)
    {
        var email = await MessageKit.RenderAsync("weekly-tip") with { Subject = subject };

        var raw = MessageKit.Serialize(MessageKit.Factory().Build(MessageKit.Editions().Get("weekly-tip"), email,
            new Recipient(42, "sam@example.com", "Sam"), MessageKit.UnsubscribeUrl(), "1.2.3"));

        AssertOneSubjectAndNoBcc(raw);
        Assert.Equal("Hi Bcc: x@example.com", MessageKit.Parse(raw).Subject);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task A_hostile_recipient_name_stays_inside_the_to_header(string name)
    {
        var email = await MessageKit.RenderAsync("weekly-tip");

        var raw = MessageKit.Serialize(MessageKit.Factory().Build(MessageKit.Editions().Get("weekly-tip"), email,
            new Recipient(42, "sam@example.com", name), MessageKit.UnsubscribeUrl(), "1.2.3"));

        AssertOneSubjectAndNoBcc(raw);
        Assert.Equal("Hi Bcc: x@example.com", Assert.Single(MessageKit.Parse(raw).To.Mailboxes).Name);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task A_hostile_list_id_from_name_or_message_id_stays_on_one_line(string value)
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var edition = MessageKit.Editions().Get("weekly-tip");
        edition.ListId = $"{value} <weekly-tip.example.org>";
        edition.From = $"\"{value}\" <newsletter@example.org>";

        var raw = MessageKit.Serialize(MessageKit.Factory().Build(edition, email,
            new Recipient(42, "sam@example.com", "Sam"), MessageKit.UnsubscribeUrl(), value));

        AssertOneSubjectAndNoBcc(raw);
        var headers = MessageKit.HeaderLines(raw);
        Assert.Equal(1, MessageKit.Count(headers, "List-Id"));
        Assert.Equal(1, MessageKit.Count(headers, "Message-Id"));
        Assert.Equal("Hi Bcc: x@example.com <weekly-tip.example.org>", MessageKit.Parse(raw).Headers["List-Id"]);
    }

    [Fact]
    public async Task A_hostile_mailto_or_reply_to_cannot_add_a_header()
    {
        var email = await MessageKit.RenderAsync("weekly-tip");
        var options = new MessageOptions { ReplyTo = "Team\r\nBcc: x@example.com <hello@example.org>", FeedbackIdSender = "a\r\nBcc: x@example.com" };

        var raw = MessageKit.Serialize(MessageKit.Factory(options).Build(MessageKit.Editions().Get("weekly-tip"), email,
            new Recipient(42, "sam@example.com", "Sam"), MessageKit.UnsubscribeUrl(), "1.2.3"));

        AssertOneSubjectAndNoBcc(raw);
        // The configuration validator refuses these values at start; this is the builder's own guard.
        var result = new MessageOptionsValidator().Validate(null, options);
        Assert.Contains(result.Failures!, f => f.StartsWith("Messages:ReplyTo:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Messages:FeedbackIdSender:", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> HostileFrontMatter => new()
    {
        { "subject: \"Hi\\r\\nBcc: x@example.com\"", "subject" },
        { "subject: \"Hi\\nBcc: x@example.com\"", "subject" },
        { "subject: \"Hi\\u2028Bcc: x@example.com\"", "subject" },
        { "subject: |\n  Hi\n  Bcc: x@example.com", "subject" },
        { "preheader: \"Quiet\\rBcc: x@example.com\"", "preheader" },
        { "headline: \"Quiet\\x07Bcc\"", "headline" },
    };

    [Theory]
    [MemberData(nameof(HostileFrontMatter))]
    public async Task A_line_break_in_a_front_matter_value_is_refused_at_the_queue_naming_the_key_and_line(string frontMatter, string key)
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync();
        var text = "---\nedition: weekly-tip\n" + (frontMatter.StartsWith("subject", StringComparison.Ordinal) ? "" : "subject: \"A calm subject\"\n")
            + frontMatter + "\n---\nBody text.\n";
        var path = app.WriteFile("hostile.md", text);

        var result = await host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(path));

        Assert.Null(result.Issue);
        var problem = Assert.Single(result.Problems);
        Assert.Contains($"'{key}' contains a line break or control character", problem, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:", problem, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Empty(db.Issues);
    }
}
