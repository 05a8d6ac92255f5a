using System.Globalization;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Publishing;

/// <summary>When a queued issue will go out, or why it will not.</summary>
public sealed record ForecastSlot(DateTimeOffset? Slot, string? Reason);

/// <summary>
/// Plays the publisher's rule forward over an edition's coming slots: at each slot the issue pinned
/// to that day (send_on) goes out, else the head of the queue (oldest first); a slot that already has
/// a publication takes nothing. It must follow <see cref="Publisher"/>; a test holds the two together.
/// </summary>
public static class QueueForecast
{
    /// <summary>Slots looked at before giving up on the rest (years for a weekly edition).</summary>
    private const int MaxSlots = 2000;

    public static IReadOnlyDictionary<int, ForecastSlot> Forecast(
        EditionSchedule schedule, IReadOnlyList<Issue> queued, ISet<DateTime> publishedSlotsUtc, DateTimeOffset now)
    {
        var result = new Dictionary<int, ForecastSlot>();
        var head = new Queue<Issue>(queued.Where(i => i.SendOn is null).OrderBy(i => i.QueuedAt).ThenBy(i => i.Id));
        var pinned = queued.Where(i => i.SendOn is not null).OrderBy(i => i.QueuedAt).ThenBy(i => i.Id).ToList();
        var lastPinnedDay = pinned.Count == 0 ? DateOnly.MinValue : pinned.Max(i => i.SendOn!.Value);

        var cursor = now;
        for (var n = 0; n < MaxSlots && (head.Count > 0 || pinned.Count > 0) && schedule.NextSlotAfter(cursor) is { } slot; n++)
        {
            cursor = slot;
            var day = schedule.LocalDate(slot);
            // Pins for days already behind us will never be picked.
            foreach (var stale in pinned.Where(i => i.SendOn < day).ToList())
            {
                result[stale.Id] = new ForecastSlot(null, $"none: no slot left on {stale.SendOn:yyyy-MM-dd}");
                pinned.Remove(stale);
            }
            if (publishedSlotsUtc.Contains(slot.UtcDateTime))
            {
                continue;
            }
            if (pinned.FirstOrDefault(i => i.SendOn == day) is { } pin)
            {
                result[pin.Id] = new ForecastSlot(slot, null);
                pinned.Remove(pin);
            }
            else if (head.TryDequeue(out var next))
            {
                result[next.Id] = new ForecastSlot(slot, null);
            }
            if (head.Count == 0 && day > lastPinnedDay)
            {
                break;
            }
        }
        foreach (var issue in head.Concat(pinned))
        {
            result.TryAdd(issue.Id, new ForecastSlot(null, "none: the schedule has no slot for it"));
        }
        return result;
    }

    /// <summary>"Thu 2026-12-10 09:00 America/New_York": sortable, and the zone named.</summary>
    public static string Format(EditionSchedule schedule, DateTimeOffset utc) =>
        $"{schedule.ToLocal(utc).ToString("ddd yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} {schedule.TimeZone.Id}";
}
