using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.Infrastructure;

/// <summary>The loopback SMTP server the delivery tests stand on, checked with MailKit as the client.</summary>
public sealed class TestSmtpServerTests
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_sent_message_is_captured_with_its_envelope_sender_recipient_and_subject()
    {
        await using var server = await TestSmtpServer.StartAsync();
        using var client = await TestSmtpClient.ConnectAsync(server);

        await client.SendAsync(NewMessage("ada@example.com", "Fact of the Week"));
        await server.WaitForMessagesAsync(1, Wait);

        var received = Assert.Single(server.Messages);
        Assert.Equal("news@example.org", received.MailFrom);
        Assert.Equal(["ada@example.com"], received.RcptTo);
        Assert.Equal("Fact of the Week", received.Message.Subject);
        Assert.Equal("Hello ada@example.com", received.Message.TextBody?.Trim());
        Assert.NotEmpty(received.Raw);
        Assert.Equal(1, received.ConnectionNumber);
        Assert.Equal("127.0.0.1", server.Host);
        Assert.NotEqual(0, server.Port);
    }

    [Fact]
    public async Task A_scripted_550_5_1_1_at_rcpt_surfaces_as_an_SmtpCommandException_naming_the_mailbox_and_the_connection_stays_usable()
    {
        await using var server = await TestSmtpServer.StartAsync(SmtpScript.ForRecipients((rcpt, _) =>
            rcpt == "gone@example.com" ? SmtpReplyDecision.UserUnknown : SmtpReplyDecision.Accept));
        using var client = await TestSmtpClient.ConnectAsync(server);

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("gone@example.com")));

        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, ex.ErrorCode);
        Assert.Equal(550, (int)ex.StatusCode);
        Assert.Equal("gone@example.com", ex.Mailbox?.Address);
        Assert.StartsWith("5.1.1 ", ex.Message);
        Assert.True(client.IsConnected);

        await client.SendAsync(NewMessage("ada@example.com"));

        var received = Assert.Single(server.Messages);
        Assert.Equal(["ada@example.com"], received.RcptTo);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task A_450_on_the_first_attempt_and_accept_on_the_second_delivers_the_message_on_the_retry()
    {
        await using var server = await TestSmtpServer.StartAsync(SmtpScript.ForRecipients((_, attempt) =>
            attempt == 1 ? SmtpReplyDecision.MailboxBusy : SmtpReplyDecision.Accept));
        using var client = await TestSmtpClient.ConnectAsync(server);

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("ada@example.com")));
        Assert.Equal(450, (int)ex.StatusCode);
        Assert.Empty(server.Messages);

        await client.SendAsync(NewMessage("ada@example.com"));

        Assert.Single(server.Messages);
        Assert.Equal(2, server.RcptAttempts("ada@example.com"));
    }

    [Theory]
    [InlineData(SmtpReplyStage.Rcpt)]
    [InlineData(SmtpReplyStage.EndOfData)]
    public async Task A_scripted_421_is_the_reply_the_client_sees_and_then_the_server_closes_the_connection(SmtpReplyStage stage)
    {
        await using var server = await TestSmtpServer.StartAsync(SmtpScript.ForRecipients((_, _) =>
            SmtpReplyDecision.ServiceNotAvailable with { Stage = stage }));
        using var client = await TestSmtpClient.ConnectAsync(server);

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("ada@example.com")));

        Assert.Equal(421, (int)ex.StatusCode);
        Assert.StartsWith("4.7.0 ", ex.Message);
        Assert.Empty(server.Messages);
        await AssertConnectionIsUnusableAsync(client);
    }

    [Fact]
    public async Task A_reply_scripted_for_end_of_data_is_sent_after_the_body_and_the_message_is_not_kept()
    {
        await using var server = await TestSmtpServer.StartAsync(SmtpScript.ForRecipients((_, attempt) =>
            attempt == 1 ? SmtpReplyDecision.Throttled.AtEndOfData() : SmtpReplyDecision.Accept));
        using var client = await TestSmtpClient.ConnectAsync(server);

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("ada@example.com")));

        Assert.Equal(SmtpErrorCode.MessageNotAccepted, ex.ErrorCode);
        Assert.Equal(451, (int)ex.StatusCode);
        Assert.Equal("4.7.1 Rate limited, try again later", ex.Message);
        Assert.Empty(server.Messages);

        await client.SendAsync(NewMessage("ada@example.com"));
        Assert.Single(server.Messages);
    }

    [Fact]
    public async Task The_script_can_be_changed_while_the_server_is_running()
    {
        await using var server = await TestSmtpServer.StartAsync();
        using var client = await TestSmtpClient.ConnectAsync(server);
        await client.SendAsync(NewMessage("ada@example.com"));

        server.Script = SmtpScript.ForRecipients((_, _) => SmtpReplyDecision.UserUnknown);

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("ada@example.com")));
        Assert.Equal(550, (int)ex.StatusCode);
        Assert.Single(server.Messages);
    }

    [Fact]
    public async Task After_the_nth_accepted_message_the_connection_is_dropped_and_the_clients_next_send_fails()
    {
        await using var server = await TestSmtpServer.StartAsync();
        server.DropConnectionAfterMessages(3);
        using var client = await TestSmtpClient.ConnectAsync(server);

        for (var i = 1; i <= 3; i++)
        {
            await client.SendAsync(NewMessage($"reader{i}@example.com"));
        }

        await AssertConnectionIsUnusableAsync(client, NewMessage("reader4@example.com"));
        Assert.Equal(3, server.Messages.Count);

        // The drop is one-shot: a new connection carries on.
        using var second = await TestSmtpClient.ConnectAsync(server);
        await second.SendAsync(NewMessage("reader4@example.com"));
        Assert.Equal(4, server.Messages.Count);
        Assert.Equal(2, server.ConnectionCount);
    }

    [Fact]
    public async Task A_scripted_drop_fires_once_even_when_the_script_is_reassigned_with_other_changes()
    {
        await using var server = await TestSmtpServer.StartAsync(new SmtpScript { DropConnectionAfterMessages = 1 });
        using (var first = await TestSmtpClient.ConnectAsync(server))
        {
            await first.SendAsync(NewMessage("reader1@example.com"));
            await AssertConnectionIsUnusableAsync(first);
        }

        server.Script = server.Script with { OnRcptTo = (_, _) => SmtpReplyDecision.Accept };

        using var second = await TestSmtpClient.ConnectAsync(server);
        await second.SendAsync(NewMessage("reader2@example.com"));
        await second.SendAsync(NewMessage("reader3@example.com"));
        Assert.Equal(3, server.Messages.Count);
    }

    [Fact]
    public async Task A_drop_before_the_reply_keeps_the_message_while_the_clients_send_fails()
    {
        await using var server = await TestSmtpServer.StartAsync(new SmtpScript
        {
            DropConnectionAfterMessages = 2,
            DropPoint = DropPoint.BeforeReply,
        });
        using var client = await TestSmtpClient.ConnectAsync(server);
        await client.SendAsync(NewMessage("reader1@example.com"));

        await AssertConnectionIsUnusableAsync(client, NewMessage("reader2@example.com"));

        Assert.Equal(2, server.Messages.Count);
        Assert.Equal(["reader2@example.com"], server.Messages[1].RcptTo);
    }

    [Fact]
    public async Task A_stopped_server_refuses_connections_and_after_a_restart_accepts_them_on_the_same_port()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var port = server.Port;
        using var before = await TestSmtpClient.ConnectAsync(server);
        await before.SendAsync(NewMessage("ada@example.com"));
        await before.DisconnectAsync(quit: true); // leaves the server side of this connection in TIME_WAIT
        using var cutOff = await TestSmtpClient.ConnectAsync(server);

        await server.StopAsync();

        Assert.False(server.IsRunning);
        await AssertConnectionIsUnusableAsync(cutOff);
        var refused = await Assert.ThrowsAnyAsync<SocketException>(() => TestSmtpClient.ConnectAsync(server));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await server.RestartAsync();

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        using var after = await TestSmtpClient.ConnectAsync(server);
        await after.SendAsync(NewMessage("grace@example.com"));
        Assert.Equal(["ada@example.com", "grace@example.com"], server.Messages.Select(m => m.RcptTo.Single()));
    }

    [Fact]
    public async Task Two_hundred_messages_over_one_no_delay_connection_all_arrive_on_that_one_connection()
    {
        const int count = 200;
        await using var server = await TestSmtpServer.StartAsync();
        using var client = await TestSmtpClient.ConnectAsync(server);

        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(NewMessage($"reader{i}@example.com"));
        }

        await server.WaitForMessagesAsync(count, Wait);
        Assert.Equal(count, server.Messages.Count);
        Assert.Equal(1, server.ConnectionCount);
        Assert.All(server.Messages, m => Assert.Equal(1, m.ConnectionNumber));
    }

    [Fact]
    public async Task Waiting_for_more_messages_than_arrive_times_out_with_the_count_so_far()
    {
        await using var server = await TestSmtpServer.StartAsync();
        using var client = await TestSmtpClient.ConnectAsync(server);
        await client.SendAsync(NewMessage("ada@example.com"));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => server.WaitForMessagesAsync(2, TimeSpan.FromMilliseconds(50)));

        Assert.Contains("accepted 1", ex.Message);
    }

    [Fact]
    public async Task Waiting_for_messages_completes_when_they_arrive_later()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var waiting = server.WaitForMessagesAsync(2, Wait);
        Assert.False(waiting.IsCompleted);

        using var client = await TestSmtpClient.ConnectAsync(server);
        await client.SendAsync(NewMessage("ada@example.com"));
        await client.SendAsync(NewMessage("grace@example.com"));

        await waiting;
        Assert.Equal(2, server.Messages.Count);
    }

    static MimeMessage NewMessage(string to, string subject = "Hello")
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Newsletter", "news@example.org"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = $"Hello {to}" };
        return message;
    }

    /// <summary>The client's next command fails as a lost connection does, and MailKit knows it is disconnected.</summary>
    static async Task AssertConnectionIsUnusableAsync(SmtpClient client, MimeMessage? next = null)
    {
        var ex = await Record.ExceptionAsync(() => client.SendAsync(next ?? NewMessage("next@example.com")));

        Assert.True(
            ex is IOException or SmtpProtocolException or ServiceNotConnectedException,
            $"Expected a lost-connection error, got {ex?.GetType().FullName ?? "no exception"}: {ex?.Message}");
        Assert.False(client.IsConnected);
    }
}
