using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// Several instances of the built service on one server database, as a deployment with more than one
/// machine runs them: three senders sharing a send of 20,000 readers, one of them killed mid-send, and
/// three services firing the same slot. Run on PostgreSQL, and on SQL Server when one is given.
/// </summary>
[Collection(nameof(ProcessTests))]
public abstract partial class SeveralInstancesTests
{
    private const int Readers = 20_000;
    private const int ConnectionsEach = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private static readonly (string, string) MigratedAlready = ("Database__MigrateOnStart", "false");

    [DatabaseFact]
    public async Task Three_processes_share_a_send_of_20000_readers_and_mail_each_exactly_once()
    {
        await using var world = await StartAsync("00:00:30");
        var publicationId = await world.PublishAsync();
        // The server stays down until all three are up and trying, so that all three share the work.
        await world.Smtp.StopAsync();

        var senders = Enumerable.Range(0, 3)
            .Select(_ => NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready)).ToList();
        try
        {
            foreach (var sender in senders)
            {
                await sender.WaitForOutputAsync("cannot open an SMTP session", Patience);
            }
            await world.Smtp.RestartAsync();
            foreach (var sender in senders)
            {
                Assert.True(await sender.WaitForExitAsync(Patience) == 0, sender.Output);
            }

            var received = world.ReceivedCounts();
            Assert.Equal(Readers, received.Count);
            Assert.All(received.Values, count => Assert.Equal(1, count));
            var sentEach = senders.Select(s => SentByThisProcess(s.Output)).ToList();
            Assert.Equal(Readers, sentEach.Sum());
            Assert.All(sentEach, sent => Assert.True(sent > 0, $"every process sent some: {string.Join(", ", sentEach)}"));
            Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [DatabaseFact]
    public async Task One_of_three_processes_killed_mid_send_leaves_nobody_out_and_duplicates_within_its_connections()
    {
        await using var world = await StartAsync("00:00:02");
        var publicationId = await world.PublishAsync();
        await world.Smtp.StopAsync();

        var senders = Enumerable.Range(0, 3)
            .Select(_ => NewsletterProcess.Start(world.App, ["publications", "send", $"{publicationId}"], MigratedAlready)).ToList();
        try
        {
            foreach (var sender in senders)
            {
                await sender.WaitForOutputAsync("cannot open an SMTP session", Patience);
            }
            await world.Smtp.RestartAsync();
            await world.Smtp.WaitForMessagesAsync(Readers / 4, Patience);
            senders[0].Kill(); // SIGKILL: claims held, messages possibly mid-flight

            Assert.True(await senders[1].WaitForExitAsync(Patience) == 0, senders[1].Output);
            Assert.True(await senders[2].WaitForExitAsync(Patience) == 0, senders[2].Output);

            var received = world.ReceivedCounts();
            Assert.Equal(Readers, received.Count);
            // At most one message per connection of the killed process was in flight and unrecorded.
            Assert.InRange(world.Smtp.Messages.Count - Readers, 0, ConnectionsEach);
            Assert.All(received.Values, count => Assert.InRange(count, 1, 2));
            await using var db = world.App.OpenDb();
            Assert.Equal(Readers, await db.Deliveries.CountAsync(d => d.PublicationId == publicationId && d.Status == DeliveryStatus.Sent));
            Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [DatabaseFact]
    public async Task Three_services_firing_the_same_slots_publish_each_slot_once_and_send_the_issue_once()
    {
        const int readers = 30;
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Scheduling:Enabled", "true")
            .Set("Scheduling:CatchUpWindow", "00:00:00")
            // A slot every five seconds, so the three fire several while they run together.
            .Set($"Editions:{DeliveryWorld.Edition}:Schedule", "0/5 * * * * ?"));
        await world.AddSubscribersAsync(readers);
        var issueId = await world.QueueAsync();

        var services = Enumerable.Range(0, 3)
            .Select(_ => NewsletterProcess.Start(world.App, ["run"], MigratedAlready)).ToList();
        try
        {
            await world.Smtp.WaitForMessagesAsync(readers, Patience);
            // Let the three fire a few more (empty) slots together.
            var firstSlots = await SlotsAsync(world);
            await Poll.UntilAsync(async () => (await SlotsAsync(world)).Count >= firstSlots.Count + 3, "three more slots to fire", Patience);
            services.ForEach(s => s.Terminate());
            foreach (var service in services)
            {
                await service.WaitForExitAsync(Patience);
                Assert.DoesNotContain("failed", service.StandardError, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("publishing the slot", service.Output, StringComparison.Ordinal);
            }

            await using var db = world.App.OpenDb();
            var publications = await db.Publications.AsNoTracking().Where(p => p.Edition == DeliveryWorld.Edition).ToListAsync();
            Assert.Single(publications, p => p.IssueId == issueId);
            Assert.Equal(publications.Count, publications.Select(p => p.SlotUtc).Distinct().Count());
            Assert.Equal(readers, world.ReceivedCounts().Count);
            Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
        }
        finally
        {
            services.ForEach(s => s.Dispose());
        }
    }

    private static async Task<DeliveryWorld> StartAsync(string lease)
    {
        var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Connections", $"{ConnectionsEach}")
            .Set("Delivery:LeaseDuration", lease)
            .Set("Delivery:ReconnectDelay", "00:00:00.200"));
        await world.AddSubscribersAsync(Readers);
        return world;
    }

    private static async Task<List<DateTime>> SlotsAsync(DeliveryWorld world)
    {
        await using var db = world.App.OpenDb();
        return await db.Publications.Where(p => p.Edition == DeliveryWorld.Edition).Select(p => p.SlotUtc).ToListAsync();
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

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class SeveralInstancesTestsOnPostgreSql : SeveralInstancesTests
{
    public SeveralInstancesTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class SeveralInstancesTestsOnSqlServer : SeveralInstancesTests
{
    public SeveralInstancesTestsOnSqlServer() => TestDatabases.UseFor(this);
}
