using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// <c>Delivery:DedicatedSenderThreads</c>: on, each sender's conversation with the server is blocking on
/// its own thread and never leaves it; off, senders run on the thread pool with MailKit's asynchronous
/// API, and the send delivers the same.
/// </summary>
public sealed class SenderThreadTests
{
    [Fact]
    public async Task On_a_sender_thread_each_message_is_handed_over_blocking_without_leaving_the_thread()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var transport = new SmtpTransport(Options.Create(new SmtpOptions
        {
            Host = server.Host,
            Port = server.Port,
            Security = SmtpSecurity.None,
            Timeout = TimeSpan.FromSeconds(15),
        }), NullLogger<SmtpTransport>.Instance);
        var threads = new ConcurrentBag<string?>();
        var completedOnReturn = new ConcurrentBag<bool>();

        await SenderThread.RunAsync(async () =>
        {
            var open = transport.OpenAsync(CancellationToken.None);
            completedOnReturn.Add(open.IsCompleted);
            await using var connection = await open;
            for (var i = 1; i <= 3; i++)
            {
                var send = connection.SendAsync(Message(i), new MailboxAddress("", "news@example.org"), new MailboxAddress("", $"reader{i}@example.org"), CancellationToken.None);
                completedOnReturn.Add(send.IsCompleted);
                Assert.Equal(SendStatus.Accepted, (await send).Status);
                threads.Add(Thread.CurrentThread.Name);
            }
        }, "sender test/0");

        Assert.Equal(3, server.Messages.Count);
        Assert.All(completedOnReturn, Assert.True);
        Assert.All(threads, name => Assert.Equal("sender test/0", name));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_setting_chooses_the_senders_threads_and_the_send_delivers_the_same(bool dedicated)
    {
        var threads = new ConcurrentBag<string?>();
        await using var world = await DeliveryWorld.StartAsync(
            configure: app => app.Set("Delivery:DedicatedSenderThreads", dedicated ? "true" : "false"),
            services: s => s.AddSingleton<IMailTransport>(sp => new ThreadRecorder(
                ActivatorUtilities.CreateInstance<SmtpTransport>(sp), threads)));
        await world.AddSubscribersAsync(8);

        var final = await world.RunAsync(await world.PublishAsync());

        Assert.Equal(8, final.Sent);
        Assert.Equal(8, world.ReceivedCounts().Count);
        Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
        Assert.Equal(8, threads.Count);
        Assert.All(threads, name => Assert.Equal(dedicated, name?.StartsWith("sender ", StringComparison.Ordinal) == true));
    }

    private static MimeMessage Message(int i)
    {
        var message = new MimeMessage { Subject = $"Issue {i}" };
        message.From.Add(new MailboxAddress("Steady Ground", "news@example.org"));
        message.To.Add(new MailboxAddress("", $"reader{i}@example.org"));
        message.Body = new TextPart("plain") { Text = $"Body {i}" };
        return message;
    }

    /// <summary>Records the name of the thread each message is handed over on.</summary>
    private sealed class ThreadRecorder(IMailTransport inner, ConcurrentBag<string?> threads) : IMailTransport
    {
        public async Task<IMailConnection> OpenAsync(CancellationToken cancellationToken) =>
            new Connection(await inner.OpenAsync(cancellationToken), threads);

        private sealed class Connection(IMailConnection inner, ConcurrentBag<string?> threads) : IMailConnection
        {
            public bool IsOpen => inner.IsOpen;

            public Task<SendResult> SendAsync(MimeMessage message, MailboxAddress envelopeFrom, MailboxAddress envelopeTo, CancellationToken cancellationToken)
            {
                threads.Add(Thread.CurrentThread.Name);
                return inner.SendAsync(message, envelopeFrom, envelopeTo, cancellationToken);
            }

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
