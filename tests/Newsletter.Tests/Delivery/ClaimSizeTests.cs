using Newsletter.Tests.Infrastructure.Databases;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>How big the claims of a send are, read from the rows each claim statement took.</summary>
public class ClaimSizeTests
{
    // Guards the end of a send: claims shrink with what is left, so no sender is still working
    // through a full claim while the others have nothing (the tail that made short sends slow).
    // One connection, 400 readers: the first claim is a quarter of the list (100), each later one
    // a quarter of what is left, never below 20, and everyone is mailed once.
    [DatabaseFact]
    public async Task Claims_shrink_towards_the_end_of_a_send_and_everyone_is_mailed_once()
    {
        var claims = new ClaimLog();
        await using var world = await DeliveryWorld.StartAsync(
            configure: app => app.Set("Delivery:Connections", "1"),
            services: s => s.ConfigureNewsletterDb(o => o.AddInterceptors(claims)));
        await world.AddSubscribersAsync(400);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(400, final.Sent);
        Assert.Equal(400, world.ReceivedCounts().Count);
        Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
        var sizes = claims.Sizes.ToList();
        Assert.Equal(400, sizes.Sum());
        Assert.Equal(100, sizes[0]);
        Assert.Equal(75, sizes[1]); // a quarter of the 300 left
        Assert.True(sizes.Zip(sizes.Skip(1)).All(pair => pair.Second <= pair.First), $"claims grew: {string.Join(", ", sizes)}");
        Assert.True(sizes[^1] <= 20, $"the last claim was {sizes[^1]}: {string.Join(", ", sizes)}");
        Assert.All(sizes.SkipLast(1), size => Assert.True(size >= 20, $"a claim below the floor: {string.Join(", ", sizes)}"));
    }

    /// <summary>The number of rows each of the engine's claim statements took, in order.</summary>
    private sealed class ClaimLog : ClaimWatcher
    {
        public ConcurrentQueue<int> Sizes { get; } = new();

        protected override void OnClaim(int rows) => Sizes.Enqueue(rows);
    }
}
