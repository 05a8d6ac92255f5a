using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>Old publications' delivery rows folded into counts and readers' totals (Delivery:KeepDeliveryRowsFor).</summary>
public class CompactionTests
{
    [DatabaseFact]
    public async Task Old_publications_lose_their_rows_but_keep_their_counts_results_and_each_readers_share()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(12);
        var first = await world.PublishAsync("Tip of the Week: first");
        Assert.Equal(12, (await world.RunAsync(first)).Sent);
        var second = await world.PublishAsync("Tip of the Week: second");
        Assert.Equal(12, (await world.RunAsync(second)).Sent);
        await using (var db = world.App.OpenDb())
        {
            Assert.True(await PublicationResults.RecordUnsubscribeAsync(db, second, 5, DeliveryWorld.Edition,
                DateTime.SpecifyKind(new DateTime(2026, 1, 6), DateTimeKind.Utc), CancellationToken.None));
        }
        await world.App.RunCliOkAsync("subscribers", "erase", DeliveryWorld.Email(2));
        var shownBefore = (await world.App.RunCliOkAsync("publications", "show", $"{second}")).Out;
        var listBefore = (await world.App.RunCliOkAsync("publications", "list")).Out;

        var finished = (await world.PublicationAsync(second)).CompletedAt!.Value;
        Assert.Equal(new CompactionResult(0, 0), await CompactAsync(world, finished.AddDays(89)));
        Assert.Equal(new CompactionResult(2, 24), await CompactAsync(world, finished.AddDays(91)));

        Assert.Empty(await world.DeliveriesAsync(first));
        Assert.Empty(await world.DeliveriesAsync(second));
        Assert.Equal(shownBefore, (await world.App.RunCliOkAsync("publications", "show", $"{second}")).Out);
        Assert.Contains("unsubscribed: 1 ", shownBefore);
        Assert.Equal(listBefore, (await world.App.RunCliOkAsync("publications", "list")).Out);

        var export = JsonDocument.Parse((await world.App.RunCliOkAsync("subscribers", "export-data", DeliveryWorld.Email(1))).Out).RootElement;
        Assert.Equal(0, export.GetProperty("deliveries").GetArrayLength());
        var earlier = Assert.Single(export.GetProperty("earlierDeliveries").EnumerateArray());
        Assert.Equal(DeliveryWorld.Edition, earlier.GetProperty("edition").GetString());
        Assert.Equal(2, earlier.GetProperty("delivered").GetInt32());
        Assert.Equal(0, earlier.GetProperty("failed").GetInt32());
        await using (var db = world.App.OpenDb())
        {
            // Ten readers still on the list, one row each; the erased reader left none.
            Assert.Equal(11, await db.DeliveryTotals.CountAsync());
            Assert.False(await db.DeliveryTotals.AnyAsync(t => t.SubscriberId == 2));
        }
        Assert.Equal(new CompactionResult(0, 0), await CompactAsync(world, finished.AddDays(92)));
    }

    [DatabaseFact]
    public async Task A_compaction_stopped_after_freezing_the_counts_is_finished_by_the_next_pass_without_counting_twice()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(9);
        var first = await world.PublishAsync("Tip of the Week: first");
        await world.RunAsync(first);
        var finished = (await world.PublicationAsync(first)).CompletedAt!.Value;
        // The first pass stops after its first chunk is committed (a crash there loses nothing).
        using var stop = new CancellationTokenSource();
        var firstPass = CompactAsync(world, finished.AddDays(91), chunk: 4, stopAfterChunk: stop);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstPass);
        Assert.Equal(5, (await world.DeliveriesAsync(first)).Count);
        Assert.NotNull((await world.PublicationAsync(first)).CompactedAt);

        Assert.Equal(new CompactionResult(1, 5), await CompactAsync(world, finished.AddDays(91), chunk: 4));
        Assert.Empty(await world.DeliveriesAsync(first));
        await using var db = world.App.OpenDb();
        Assert.Equal(9, await db.DeliveryTotals.CountAsync(t => t.Delivered == 1 && t.Failed == 0));
        Assert.Equal(9, (await PublicationProgress.ReadAsync(db, first, CancellationToken.None)).Sent);
    }

    private static async Task<CompactionResult> CompactAsync(
        DeliveryWorld world, DateTime now, int chunk = 5, CancellationTokenSource? stopAfterChunk = null)
    {
        await using var db = world.App.OpenDb();
        var compaction = new DeliveryCompaction(db, Options.Create(new DeliveryOptions()), new FakeTimeProvider(now),
            NullLogger<DeliveryCompaction>.Instance)
        { ChunkSize = chunk, AfterChunk = stopAfterChunk is null ? null : () => stopAfterChunk.Cancel() };
        return await compaction.CompactAsync(stopAfterChunk?.Token ?? CancellationToken.None);
    }
}
