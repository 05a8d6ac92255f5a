using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The SMTP transport sends DATA in the same group as MAIL FROM and RCPT TO when the server
/// pipelines (RFC 2920), and every path out of that — a refused recipient, a refused DATA, a server
/// that accepts DATA it should have refused, content that looks like commands — stays correct.
/// Against a raw server on loopback that records which commands arrived before it had answered.
/// </summary>
public sealed class DataPipeliningTests
{
    private static readonly MailboxAddress From = new("Steady Ground", "newsletter@example.org");

    [Fact]
    public async Task Data_goes_with_the_envelope_so_each_message_costs_two_round_trips_not_three()
    {
        await using var server = LineSmtpServer.Start();
        await using var connection = await OpenAsync(server);

        for (var i = 1; i <= 3; i++)
        {
            var result = await connection.SendAsync(Message($"Issue body {i}"), From, To(i), CancellationToken.None);
            Assert.Equal(SendStatus.Accepted, result.Status);
        }

        Assert.Equal(3, server.Messages.Count);
        Assert.All(Enumerable.Range(1, 3), i => Assert.Contains($"Issue body {i}", server.Messages[i - 1]));
        var transactions = Transactions(server.Commands);
        Assert.Equal(3, transactions.Count);
        // DATA reached the server before it had answered MAIL FROM: sent without waiting.
        Assert.All(transactions, t => Assert.Equal(t.Mail.RepliesBefore, t.Data.RepliesBefore));
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task With_PipelineData_off_DATA_waits_for_the_envelope_replies_and_the_same_messages_arrive()
    {
        await using var server = LineSmtpServer.Start();
        await using (var connection = await Transport(server, pipelineData: false).OpenAsync(CancellationToken.None))
        {
            for (var i = 1; i <= 2; i++)
            {
                Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message($"Body {i}"), From, To(i), CancellationToken.None)).Status);
            }
        }

        Assert.Equal(2, server.Messages.Count);
        Assert.All(Enumerable.Range(1, 2), i => Assert.Contains($"Body {i}", server.Messages[i - 1]));
        var transactions = Transactions(server.Commands);
        Assert.Equal(2, transactions.Count);
        // MailKit's own groups: MAIL FROM and RCPT TO together, DATA only after both replies.
        Assert.All(transactions, t => Assert.Equal(t.Mail.RepliesBefore + 2, t.Data.RepliesBefore));
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task A_server_without_PIPELINING_gets_each_command_only_after_the_previous_reply()
    {
        await using var server = LineSmtpServer.Start(pipelining: false);
        await using var connection = await OpenAsync(server);

        for (var i = 1; i <= 2; i++)
        {
            Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message($"Body {i}"), From, To(i), CancellationToken.None)).Status);
        }

        Assert.Equal(2, server.Messages.Count);
        Assert.All(Transactions(server.Commands), t =>
        {
            Assert.Equal(t.Mail.RepliesBefore + 1, t.Rcpt.RepliesBefore);
            Assert.Equal(t.Mail.RepliesBefore + 2, t.Data.RepliesBefore);
        });
    }

    [Fact]
    public async Task A_refused_recipient_fails_its_message_sends_nothing_more_on_that_connection_and_the_next_message_goes_on_a_new_one()
    {
        await using var server = LineSmtpServer.Start();
        server.RcptReply = rcpt => rcpt.StartsWith("gone", StringComparison.Ordinal) ? "550 5.1.1 <gone> no such user" : "250 2.1.5 Ok";
        var transport = Transport(server);

        await using (var connection = await transport.OpenAsync(CancellationToken.None))
        {
            Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message("First"), From, To(1), CancellationToken.None)).Status);

            var refused = await connection.SendAsync(Message("Never delivered"), From, new MailboxAddress("Gone", "gone@example.net"), CancellationToken.None);

            Assert.Equal(SendStatus.PermanentFailure, refused.Status);
            Assert.Equal(550, refused.Code);
            Assert.True(refused.IsBadMailbox);
            // The server holds a DATA the client never meant to send: the connection is given up,
            // and says so before anyone tries it.
            Assert.False(connection.IsOpen);
            Assert.Equal(SendStatus.ConnectionLost, (await connection.SendAsync(Message("Second"), From, To(2), CancellationToken.None)).Status);
        }
        await using (var connection = await transport.OpenAsync(CancellationToken.None))
        {
            Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message("Second"), From, To(2), CancellationToken.None)).Status);
        }

        Assert.Equal(2, server.Messages.Count);
        Assert.DoesNotContain(server.Messages, m => m.Contains("Never delivered", StringComparison.Ordinal));
        Assert.Empty(server.Unfinished);
        // After the refused transaction's DATA, nothing more reached the first connection (no RSET, no QUIT).
        Assert.Equal("DATA", server.Commands.Last(c => c.Connection == 1).Line);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task A_server_that_wrongly_accepts_DATA_after_refusing_every_recipient_receives_no_message_and_no_stray_bytes()
    {
        await using var server = LineSmtpServer.Start();
        server.RcptReply = _ => "550 5.1.1 no such user";
        server.DataWithoutRecipients = "354 go ahead anyway";
        var connection = await OpenAsync(server);

        var refused = await connection.SendAsync(Message("Never delivered"), From, To(1), CancellationToken.None);

        Assert.Equal(SendStatus.PermanentFailure, refused.Status);
        await connection.DisposeAsync();
        await Poll.UntilAsync(() => server.Unfinished.Count == 1, "the server holds one unfinished message", TimeSpan.FromSeconds(10));
        Assert.Empty(server.Messages);
        // The connection closed with the message still open and empty: the server delivers nothing.
        Assert.Equal("", Assert.Single(server.Unfinished));
    }

    [Fact]
    public async Task A_DATA_refused_with_4xx_is_a_temporary_failure_and_the_connection_carries_on_pipelining()
    {
        await using var server = LineSmtpServer.Start();
        server.DataReply = n => n == 1 ? "451 4.3.0 try again later" : "354 End data with <CR><LF>.<CR><LF>";
        await using var connection = await OpenAsync(server);

        var first = await connection.SendAsync(Message("Refused for now"), From, To(1), CancellationToken.None);
        var second = await connection.SendAsync(Message("Accepted"), From, To(2), CancellationToken.None);

        Assert.Equal((SendStatus.TemporaryFailure, 451), (first.Status, first.Code));
        Assert.Equal(SendStatus.Accepted, second.Status);
        Assert.True(connection.IsOpen);
        Assert.Contains("Accepted", Assert.Single(server.Messages));
        Assert.Contains(server.Commands, c => c.Line == "RSET");
        var last = Transactions(server.Commands)[^1];
        Assert.Equal(last.Mail.RepliesBefore, last.Data.RepliesBefore);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task Content_that_looks_like_commands_arrives_intact_and_the_next_envelope_is_pipelined_again()
    {
        await using var server = LineSmtpServer.Start();
        await using var connection = await OpenAsync(server);
        // Over 64 KB, so the stream also sends part of it before the end; lines a command parser,
        // or a careless end-of-data check, would trip on.
        var tricky = string.Join("\r\n",
            Enumerable.Range(0, 1500).Select(i => $"Line {i} of a long issue, written to fill the buffer.")
                .Concat(["MAIL FROM:<someone@example.org>", "RCPT TO:<else@example.org>", "DATA", "RSET", ".", ".hidden", "..", "QUIT", "The end."]));

        Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message(tricky), From, To(1), CancellationToken.None)).Status);
        Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(Message("After"), From, To(2), CancellationToken.None)).Status);

        Assert.Equal(2, server.Messages.Count);
        Assert.True(tricky.Length > 64 * 1024);
        Assert.Contains(tricky, server.Messages[0]);
        var transactions = Transactions(server.Commands);
        Assert.Equal(2, transactions.Count);
        Assert.All(transactions, t => Assert.Equal(t.Mail.RepliesBefore, t.Data.RepliesBefore));
    }

    private sealed record Transaction(LineSmtpServer.Command Mail, LineSmtpServer.Command Rcpt, LineSmtpServer.Command Data);

    /// <summary>Each MAIL FROM with the RCPT TO and DATA that follow it on the same connection.</summary>
    private static List<Transaction> Transactions(IReadOnlyList<LineSmtpServer.Command> commands)
    {
        var transactions = new List<Transaction>();
        for (var i = 0; i + 2 < commands.Count; i++)
        {
            if (commands[i].Line.StartsWith("MAIL FROM:", StringComparison.Ordinal)
                && commands[i + 1].Line.StartsWith("RCPT TO:", StringComparison.Ordinal) && commands[i + 2].Line == "DATA"
                && commands[i + 2].Connection == commands[i].Connection)
            {
                transactions.Add(new Transaction(commands[i], commands[i + 1], commands[i + 2]));
            }
        }
        return transactions;
    }

    private static SmtpTransport Transport(LineSmtpServer server, bool pipelineData = true) =>
        new(Options.Create(new SmtpOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Security = SmtpSecurity.None,
            Timeout = TimeSpan.FromSeconds(15),
            PipelineData = pipelineData,
        }), NullLogger<SmtpTransport>.Instance);

    private static Task<IMailConnection> OpenAsync(LineSmtpServer server) => Transport(server).OpenAsync(CancellationToken.None);

    private static MailboxAddress To(int i) => new($"Reader {i}", $"reader{i}@example.net");

    private static MimeMessage Message(string text)
    {
        var message = new MimeMessage { Subject = "Fact of the Week" };
        message.From.Add(From);
        message.To.Add(new MailboxAddress("Reader", "reader@example.net"));
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }
}
