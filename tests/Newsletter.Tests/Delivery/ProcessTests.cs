using Newsletter.Tests.Infrastructure.Databases;
using System.Text.RegularExpressions;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The built <c>newsletter</c> executable as separate processes on one SQLite file: one killed
/// mid-send and another finishing the job; two sharing a send.
/// </summary>
[Collection(nameof(ProcessTests))]
public partial class ProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // The test's host has already migrated the file; children start quicker without checking again.
    private static readonly (string, string) MigratedAlready = ("Database__MigrateOnStart", "false");

    [DatabaseFact]
    public async Task A_sender_killed_mid_send_leaves_nobody_out_once_a_second_one_runs_and_duplicates_stay_within_one_per_connection()
    {
        const int recipients = 200;
        const int connections = 4;
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Connections", $"{connections}")
            .Set("Delivery:MessagesPerSecond", "100")
            .Set("Delivery:LeaseDuration", "00:00:02"));
        await world.AddSubscribersAsync(recipients);
        var publicationId = await world.PublishAsync();

        using (var first = NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready))
        {
            await world.Smtp.WaitForMessagesAsync(40, Patience);
            first.Kill(); // SIGKILL: no shutdown, claims held, possibly a message mid-flight
        }
        var beforeSecond = world.Smtp.Messages.Count;
        Assert.True(beforeSecond < recipients, "the first sender was killed mid-send");

        world.App.Set("Delivery:MessagesPerSecond", null);
        using var second = NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready);
        Assert.True(await second.WaitForExitAsync(Patience) == 0, second.Output);

        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, recipients), i => Assert.True(received.ContainsKey(DeliveryWorld.Email(i)), $"reader{i} got the issue"));
        Assert.InRange(world.Smtp.Messages.Count - recipients, 0, connections);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Sent, d.Status));
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    [DatabaseFact]
    public async Task Two_processes_sharing_one_send_on_one_SQLite_file_mail_everyone_exactly_once()
    {
        const int recipients = 300;
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Connections", "2")
            .Set("Delivery:MessagesPerSecond", "100")
            .Set("Delivery:ReconnectDelay", "00:00:00.200"));
        await world.AddSubscribersAsync(recipients);
        var publicationId = await world.PublishAsync();
        // The server stays down until both senders are up and trying, so that they share the work.
        await world.Smtp.StopAsync();

        using var a = NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready);
        using var b = NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready);
        await a.WaitForOutputAsync("cannot open an SMTP session", Patience);
        await b.WaitForOutputAsync("cannot open an SMTP session", Patience);
        await world.Smtp.RestartAsync();

        Assert.True(await a.WaitForExitAsync(Patience) == 0, a.Output);
        Assert.True(await b.WaitForExitAsync(Patience) == 0, b.Output);

        var received = world.ReceivedCounts();
        Assert.Equal(recipients, received.Count);
        Assert.All(received.Values, count => Assert.Equal(1, count));
        Assert.Equal(recipients, world.Smtp.Messages.Count);
        var sentByA = SentByThisProcess(a.Output);
        var sentByB = SentByThisProcess(b.Output);
        Assert.Equal(recipients, sentByA + sentByB);
        Assert.True(sentByA > 0 && sentByB > 0, $"both processes sent: {sentByA} and {sentByB}");
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    [DatabaseFact]
    public async Task A_sender_stopped_with_SIGTERM_records_the_message_in_flight_and_exits_1_saying_how_to_carry_on()
    {
        const int recipients = 50;
        const int slowOne = 10;
        var rcpts = 0;
        using var inFlight = new SemaphoreSlim(0);
        // The server answers the 10th recipient slowly, so the stop arrives while its message is in flight,
        // for longer than System.CommandLine's default 2 s.
        await using var world = await DeliveryWorld.StartAsync(SmtpScript.ForRecipients((_, _) =>
        {
            if (Interlocked.Increment(ref rcpts) == slowOne)
            {
                inFlight.Release();
                Thread.Sleep(TimeSpan.FromSeconds(4));
            }
            return SmtpReplyDecision.Accept;
        }), configure: app => app.Set("Delivery:Connections", "1"));
        await world.AddSubscribersAsync(recipients);
        var publicationId = await world.PublishAsync();

        using var sender = NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready);
        Assert.True(await inFlight.WaitAsync(Patience), sender.Output);
        sender.Terminate();
        var exitCode = await sender.WaitForExitAsync(Patience);

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{sender.Output}");
        Assert.Contains($"interrupted before every recipient had an outcome; carry on with 'newsletter publications send {publicationId}'",
            sender.Output, StringComparison.Ordinal);
        Assert.Equal(slowOne, world.Smtp.Messages.Count);
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.Equal(slowOne, deliveries.Count(d => d.Status == DeliveryStatus.Sent));
        Assert.Equal(recipients - slowOne, deliveries.Count(d => d.Status == DeliveryStatus.Pending));
        Assert.Equal(PublicationStatus.Sending, (await world.PublicationAsync(publicationId)).Status);
    }

    private static int SentByThisProcess(string output)
    {
        var match = SentHere().Match(output);
        Assert.True(match.Success, output);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"This process sent (\d+)\.")]
    private static partial Regex SentHere();
}
