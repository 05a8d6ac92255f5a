using Newsletter.Tests.Infrastructure.Databases;
using Microsoft.Extensions.Logging;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>Broken connections and a server that goes away: nobody is skipped, duplicates stay within the bound.</summary>
public class ConnectionFaultTests
{
    [DatabaseFact]
    public async Task When_the_server_drops_a_connection_between_messages_the_sender_reconnects_and_everyone_gets_exactly_one_message()
    {
        await using var world = await DeliveryWorld.StartAsync(new SmtpScript { DropConnectionAfterMessages = 7, DropPoint = DropPoint.AfterReply });
        await world.AddSubscribersAsync(30);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal(30, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 30), i => Assert.Equal(1, received[DeliveryWorld.Email(i)]));
        Assert.True(world.Smtp.ConnectionCount > 4, "a new connection replaced the dropped one");
    }

    [DatabaseFact]
    public async Task When_the_connection_drops_before_the_servers_reply_the_message_is_retried_and_is_the_only_possible_duplicate()
    {
        await using var world = await DeliveryWorld.StartAsync(new SmtpScript { DropConnectionAfterMessages = 5, DropPoint = DropPoint.BeforeReply });
        await world.AddSubscribersAsync(20);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal(20, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 20), i => Assert.InRange(received[DeliveryWorld.Email(i)], 1, 2));
        // The server kept the message whose reply never came; sent again, it is the one duplicate.
        Assert.Equal(21, world.Smtp.Messages.Count);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Sent, d.Status));
    }

    [DatabaseFact]
    public async Task When_the_server_is_down_at_the_start_the_send_waits_and_completes_once_it_is_back()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(25);
        var publicationId = await world.PublishAsync();
        await world.Smtp.StopAsync();

        var run = world.RunAsync(publicationId);
        await Poll.UntilAsync(() => world.Logs.Contains(LogLevel.Warning, "cannot open an SMTP session"),
            "the engine has found the server down");
        Assert.Empty(world.Smtp.Messages);
        await world.Smtp.RestartAsync();
        var final = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(25, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 25), i => Assert.Equal(1, received[DeliveryWorld.Email(i)]));
        Assert.True((await world.PublicationAsync(publicationId)).ErrorCount > 0, "refused connections count as errors");
    }

    [DatabaseFact]
    public async Task When_the_server_dies_mid_send_and_comes_back_everyone_gets_the_issue_with_at_most_one_duplicate_per_connection()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: app => app.Set("Delivery:MessagesPerSecond", "40"));
        await world.AddSubscribersAsync(80);
        var publicationId = await world.PublishAsync();

        // Slow enough (2 s for the list) that the server is surely stopped mid-send, even on a busy machine.
        var run = world.RunAsync(publicationId);
        await world.Smtp.WaitForMessagesAsync(15, TimeSpan.FromSeconds(30));
        await world.Smtp.StopAsync();
        await Poll.UntilAsync(() => world.Logs.Contains(LogLevel.Warning, "cannot open an SMTP session"),
            "the engine has found the server down");
        await world.Smtp.RestartAsync();
        var final = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(80, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 80), i => Assert.True(received.ContainsKey(DeliveryWorld.Email(i)), $"reader{i} got the issue"));
        Assert.InRange(world.Smtp.Messages.Count - 80, 0, 4);
    }
}
