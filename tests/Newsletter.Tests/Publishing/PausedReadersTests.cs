using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Admin.Readers;
using Newsletter.Worker.Data;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Publishing;

/// <summary>A paused reader is left out of the snapshot while the pause runs and is back once it has
/// ended; the editor's counts show paused readers apart.</summary>
public sealed class PausedReadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 14, 0, 0, TimeSpan.Zero);

    private static async Task<DeliveryWorld> StartAsync(FakeTimeProvider time) =>
        await DeliveryWorld.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));

    private static async Task PauseAsync(TestApp app, string email, DateTime? until)
    {
        await using var db = app.OpenDb();
        Assert.Equal(1, await db.Subscribers.Where(s => s.Email == email)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.PausedUntil, until)));
    }

    private static async Task<List<string>> RecipientsAsync(DeliveryWorld world, int publicationId)
    {
        await using var db = world.App.OpenDb();
        return await db.Deliveries.Where(d => d.PublicationId == publicationId)
            .Join(db.Subscribers, d => d.SubscriberId, s => s.Id, (d, s) => s.Email).OrderBy(e => e).ToListAsync();
    }

    [Fact]
    public async Task The_snapshot_leaves_out_a_reader_whose_pause_runs_and_takes_them_back_once_it_has_ended()
    {
        var time = new FakeTimeProvider(Now);
        await using var world = await StartAsync(time);
        await world.AddSubscribersAsync(3);
        await PauseAsync(world.App, DeliveryWorld.Email(2), Now.UtcDateTime.AddDays(14));
        // A pause that ended yesterday is no pause at all.
        await PauseAsync(world.App, DeliveryWorld.Email(3), Now.UtcDateTime.AddDays(-1));

        var during = await world.PublishAsync("During the pause");
        Assert.Equal([DeliveryWorld.Email(1), DeliveryWorld.Email(3)], await RecipientsAsync(world, during));
        Assert.Equal(2, (await world.PublicationAsync(during)).RecipientCount);

        time.Advance(TimeSpan.FromDays(14)); // the pause ends at this very second
        var after = await world.PublishAsync("After the pause");
        Assert.Equal([DeliveryWorld.Email(1), DeliveryWorld.Email(2), DeliveryWorld.Email(3)], await RecipientsAsync(world, after));
    }

    [Fact]
    public async Task A_reader_who_pauses_after_the_snapshot_is_skipped_at_send_time_with_the_reason()
    {
        // The real clock: the engine waits on it.
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(2);
        var publication = await world.PublishAsync();
        await PauseAsync(world.App, DeliveryWorld.Email(2), TimeProvider.System.GetUtcNow().UtcDateTime.AddMonths(1));

        var final = await world.RunAsync(publication);

        Assert.Equal(1, final.Sent);
        Assert.Equal([DeliveryWorld.Email(1)], world.Smtp.Messages.Select(m => m.RcptTo.Single()));
        var skipped = (await world.DeliveriesAsync(publication)).Single(d => d.SubscriberId == 2);
        Assert.Equal(DeliveryStatus.Skipped, skipped.Status);
        Assert.Contains("paused", skipped.LastResult, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_counts_show_paused_readers_apart_and_the_list_filters_them()
    {
        var time = new FakeTimeProvider(Now);
        await using var world = await StartAsync(time);
        await world.AddSubscribersAsync(4);
        await PauseAsync(world.App, DeliveryWorld.Email(1), Now.UtcDateTime.AddDays(14));
        await PauseAsync(world.App, DeliveryWorld.Email(2), Now.UtcDateTime.AddMonths(3));
        await PauseAsync(world.App, DeliveryWorld.Email(3), Now.UtcDateTime.AddSeconds(-1));

        await using var scope = world.Host.CreateScope();
        var publisher = scope.ServiceProvider.GetRequiredService<Publisher>();
        Assert.Equal((2, 2), await publisher.CountAudienceAsync(DeliveryWorld.Edition));
        Assert.Equal(2, await publisher.CountRecipientsAsync(DeliveryWorld.Edition));

        var search = new ReaderSearch(scope.ServiceProvider.GetRequiredService<NewsletterDbContext>(), time);
        var paused = await search.FindAsync(new ReaderQuery(State: ReaderState.Paused, Edition: DeliveryWorld.Edition));
        Assert.Equal([DeliveryWorld.Email(2), DeliveryWorld.Email(1)], paused.Rows.Select(r => r.Email));
        Assert.Equal(Now.UtcDateTime.AddDays(14), paused.Rows[1].PausedUntil);
        var all = await search.FindAsync(new ReaderQuery());
        Assert.Equal((4, 2), (all.Total, all.Paused));
        Assert.Null(all.Rows.Single(r => r.Email == DeliveryWorld.Email(3)).PausedUntil);
    }

    [Fact]
    public async Task The_command_line_list_calls_a_paused_reader_paused_and_filters_by_it()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "resting@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "reading@example.org", "--confirmed", "--editions", "weekly-tip");
        await PauseAsync(app, "resting@example.org", Now.UtcDateTime.AddDays(14));

        var list = await app.RunCliAsync(["subscribers", "list", "--edition", "weekly-tip"], Now);
        var paused = await app.RunCliAsync(["subscribers", "list", "--state", "paused"], Now);
        var later = await app.RunCliAsync(["subscribers", "list", "--state", "paused"], Now.AddDays(15));

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"resting@example\.org[ -]+paused", list.Out);
        Assert.Matches(@"reading@example\.org[ -]+confirmed", list.Out);
        Assert.Contains("resting@example.org", paused.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("reading@example.org", paused.Out, StringComparison.Ordinal);
        Assert.Contains("No subscribers match.", later.Out, StringComparison.Ordinal);
    }
}
