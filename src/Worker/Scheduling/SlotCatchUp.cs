using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Scheduling;

/// <summary>
/// At start, accounts for slots that passed while the service was down: the most recent one is
/// published if it is within the catch-up window, every other one since the edition's last
/// recorded slot is recorded as missed. Never more than one catch-up per edition.
/// </summary>
public sealed class SlotCatchUp(
    NewsletterDbContext db, Publisher publisher, IOptions<EditionsOptions> editions, IOptions<SchedulingOptions> scheduling,
    TimeProvider time, ILogger<SlotCatchUp> logger)
{
    /// <summary>How far back missed slots are recorded, at most.</summary>
    private static readonly TimeSpan MaxLookBack = TimeSpan.FromDays(62);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var window = scheduling.Value.CatchUpWindow;
        var published = 0;
        foreach (var key in editions.Value.Keys)
        {
            var schedule = new EditionSchedule(editions.Value.Get(key));
            var last = await db.Publications.Where(p => p.Edition == key && p.Kind != PublicationKind.SendNow)
                .MaxAsync(p => (DateTime?)p.SlotUtc, cancellationToken);
            // With no history there is nothing to have missed: only the window counts.
            var from = last is { } l ? new DateTimeOffset(l, TimeSpan.Zero) : now - window;
            if (from < now - MaxLookBack)
            {
                from = now - MaxLookBack;
            }
            var slots = schedule.SlotsBetween(from, now);
            if (slots.Count == 0)
            {
                continue;
            }
            foreach (var slot in slots.Take(slots.Count - 1))
            {
                await publisher.RecordMissedAsync(key, slot, cancellationToken);
            }
            var latest = slots[^1];
            if (now - latest <= window)
            {
                logger.LogInformation("{Edition}: catching up the slot {Slot}, missed while the service was down",
                    key, schedule.Describe(latest));
                var result = await publisher.PublishSlotAsync(key, latest, PublicationKind.CatchUp, cancellationToken);
                if (result.Outcome == PublishOutcome.Published)
                {
                    published++;
                }
            }
            else
            {
                await publisher.RecordMissedAsync(key, latest, cancellationToken);
            }
        }
        return published;
    }
}

/// <summary>Runs the catch-up once when the service starts, in the background so the pages answer
/// meanwhile. A schedule firing for the same slot meanwhile is harmless: a slot publishes once.</summary>
public sealed class SlotCatchUpService(IServiceScopeFactory scopes, DeliverySignal signal, ILogger<SlotCatchUpService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            if (await scope.ServiceProvider.GetRequiredService<SlotCatchUp>().RunAsync(cancellationToken) > 0)
            {
                signal.Notify();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Catching up missed slots failed; the schedules still run");
        }
    }
}
