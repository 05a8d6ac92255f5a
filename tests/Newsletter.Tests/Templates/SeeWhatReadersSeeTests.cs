using System.Buffers.Binary;
using MimeKit;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Templates;

/// <summary>The editor's look before sending: preview files, a real test message, screenshots.</summary>
public sealed class SeeWhatReadersSeeTests
{
    private static async Task<string> QueueSampleAsync(TestApp app, string edition)
    {
        var queued = await app.RunCliOkAsync("issues", "queue", TestData.SampleIssuePath(edition));
        return queued.Out.Trim();
    }

    [Fact]
    public async Task Issues_test_delivers_one_test_message_and_touches_no_queue_or_publication()
    {
        await using var server = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(server.Port);
        var id = await QueueSampleAsync(app, "weekly-tip");

        var result = await app.RunCliOkAsync("issues", "test", id, "--to", "editor@example.org", "--name", "Robin");

        var received = Assert.Single(server.Messages);
        Assert.Equal(["editor@example.org"], received.RcptTo);
        Assert.Equal("[TEST] Tip of the Week: pick one thing that counts as enough", received.Message.Subject);
        Assert.Equal("editor@example.org", Assert.Single(received.Message.To.Mailboxes).Address);
        Assert.Contains("Hi Robin,", received.Message.TextBody, StringComparison.Ordinal);
        Assert.Equal("List-Unsubscribe=One-Click", received.Message.Headers["List-Unsubscribe-Post"]);
        Assert.Contains("[TEST]", result.Out, StringComparison.Ordinal);

        await using var db = app.OpenDb();
        Assert.Empty(db.Publications);
        Assert.Empty(db.Deliveries);
        var issue = Assert.Single(db.Issues);
        Assert.Equal(IssueStatus.Queued, issue.Status);
        Assert.Null(issue.PublishedAt);
    }

    [Fact]
    public async Task Issues_test_can_send_an_issue_file_that_is_not_queued_yet()
    {
        await using var server = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        app.UseSmtp(server.Port);

        await app.RunCliOkAsync("issues", "test", TestData.SampleIssuePath("monthly-spotlight"), "--to", "editor@example.org");

        Assert.StartsWith("[TEST] Spotlight:", Assert.Single(server.Messages).Message.Subject, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Empty(db.Issues);
    }

    [Fact]
    public async Task Issues_test_refuses_an_address_that_is_not_one_address()
    {
        await using var server = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(server.Port);
        var id = await QueueSampleAsync(app, "weekly-tip");

        var result = await app.RunCliAsync("issues", "test", id, "--to", "a@example.org, b@example.org");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--to", result.Error, StringComparison.Ordinal);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task Issues_preview_writes_the_html_the_text_and_the_complete_message()
    {
        await using var app = TestApp.Create();
        var id = await QueueSampleAsync(app, "weekly-fact");
        var html = Path.Combine(app.Directory, "out", "fact.html");

        await app.RunCliOkAsync("issues", "preview", id, "--out", html);

        Assert.StartsWith("<!DOCTYPE html>", await File.ReadAllTextAsync(html), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Sleep and mood", await File.ReadAllTextAsync(Path.ChangeExtension(html, ".txt")), StringComparison.Ordinal);
        var raw = await File.ReadAllBytesAsync(Path.ChangeExtension(html, ".eml"));
        var message = MessageKit.Parse(raw);
        Assert.Equal("Fact of the Week: sleep and mood talk to each other", message.Subject);
        Assert.Equal("sam@example.org", Assert.Single(message.To.Mailboxes).Address);
        Assert.IsType<MultipartAlternative>(message.Body);
        var headers = MessageKit.HeaderLines(raw);
        foreach (var name in new[] { "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Message-ID", "Date" })
        {
            Assert.Equal(1, MessageKit.Count(headers, name));
        }
        Assert.Equal((await File.ReadAllTextAsync(html)).TrimEnd('\n'), message.HtmlBody?.TrimEnd('\n'));
    }

    [Fact]
    public async Task Issues_preview_with_dkim_configured_writes_a_signed_message()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var keyPath = app.WriteFile("dkim.pem", MessageKit.NewRsaKey().PrivatePem);
        app.Set("Messages:Dkim:Domain", "example.org").Set("Messages:Dkim:Selector", "news").Set("Messages:Dkim:PrivateKeyPath", keyPath);
        var html = Path.Combine(app.Directory, "tip.html");

        await app.RunCliOkAsync("issues", "preview", TestData.SampleIssuePath("weekly-tip"), "--out", html);

        var message = MessageKit.Parse(await File.ReadAllBytesAsync(Path.ChangeExtension(html, ".eml")));
        Assert.Contains("d=example.org", message.Headers[HeaderId.DkimSignature], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_dkim_key_makes_the_cli_exit_2_naming_the_key()
    {
        await using var app = TestApp.Create();
        var keyPath = app.WriteFile("dkim.pem", "not a key");
        app.Set("Messages:Dkim:Domain", "example.org").Set("Messages:Dkim:Selector", "news").Set("Messages:Dkim:PrivateKeyPath", keyPath);

        var result = await app.RunCliAsync("issues", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Messages:Dkim:PrivateKeyPath", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issues_screenshots_writes_desktop_and_phone_widths_in_light_and_dark()
    {
        await using var app = TestApp.Create();
        var id = await QueueSampleAsync(app, "weekly-tip");
        var directory = Path.Combine(app.Directory, "shots");

        var result = await app.RunCliOkAsync("issues", "screenshots", id, "--out", directory);

        var expected = new[] { ("600-light", 600), ("600-dark", 600), ("375-light", 375), ("375-dark", 375) };
        foreach (var (variant, width) in expected)
        {
            var file = Path.Combine(directory, $"weekly-tip-{id}-{variant}.png");
            Assert.Contains(file, result.Out, StringComparison.Ordinal);
            var (w, h) = PngSize(await File.ReadAllBytesAsync(file));
            Assert.Equal(width, w);
            Assert.InRange(h, 800, 16_000);
        }
        Assert.NotEqual(
            await File.ReadAllBytesAsync(Path.Combine(directory, $"weekly-tip-{id}-600-light.png")),
            await File.ReadAllBytesAsync(Path.Combine(directory, $"weekly-tip-{id}-600-dark.png")));
        Assert.Equal(4, Directory.GetFiles(directory).Length);
    }

    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG file");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
