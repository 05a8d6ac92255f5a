using System.Globalization;
using Quartz;

namespace Newsletter.Worker.Editions;

/// <summary>
/// An edition's cron schedule evaluated in its own time zone, so 09:00 stays 09:00 local across
/// daylight-saving changes. Slots are instants (UTC); dates shown to people are local.
/// </summary>
public sealed class EditionSchedule
{
    private readonly CronExpression _cron;

    public EditionSchedule(EditionOptions edition)
    {
        Edition = edition;
        TimeZone = TimeZoneInfo.FindSystemTimeZoneById(edition.TimeZone);
        _cron = new CronExpression(edition.Schedule, TimeZone);
    }

    public EditionOptions Edition { get; }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>The first slot strictly after <paramref name="afterUtc"/>.</summary>
    public DateTimeOffset? NextSlotAfter(DateTimeOffset afterUtc) => _cron.GetNextValidTimeAfter(afterUtc)?.ToUniversalTime();

    /// <summary>The next <paramref name="count"/> slots strictly after <paramref name="afterUtc"/>.</summary>
    public IEnumerable<DateTimeOffset> NextSlots(DateTimeOffset afterUtc, int count)
    {
        var cursor = afterUtc;
        for (var i = 0; i < count && NextSlotAfter(cursor) is { } next; i++)
        {
            yield return next;
            cursor = next;
        }
    }

    /// <summary>Slots in (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>], oldest first, at most <paramref name="limit"/>
    /// (the newest ones are kept when there are more).</summary>
    public IReadOnlyList<DateTimeOffset> SlotsBetween(DateTimeOffset fromExclusive, DateTimeOffset toInclusive, int limit = 400)
    {
        var slots = new Queue<DateTimeOffset>();
        var cursor = fromExclusive;
        while (NextSlotAfter(cursor) is { } next && next <= toInclusive)
        {
            slots.Enqueue(next);
            if (slots.Count > limit)
            {
                slots.Dequeue();
            }
            cursor = next;
        }
        return [.. slots];
    }

    public DateTimeOffset ToLocal(DateTimeOffset utc) => TimeZoneInfo.ConvertTime(utc, TimeZone);

    /// <summary>The slot's date in the edition's time zone: what <c>send_on</c> is compared with.</summary>
    public DateOnly LocalDate(DateTimeOffset utc) => DateOnly.FromDateTime(ToLocal(utc).DateTime);

    /// <summary>"Mon 7 Dec 2026 09:00 (America/New_York, UTC-05:00)": a time as a person reads it, zone named.</summary>
    public string Describe(DateTimeOffset utc)
    {
        var local = ToLocal(utc);
        var offset = local.Offset < TimeSpan.Zero ? $"-{local.Offset:hh\\:mm}" : $"+{local.Offset:hh\\:mm}";
        return $"{local.ToString("ddd d MMM yyyy HH:mm", CultureInfo.InvariantCulture)} ({TimeZone.Id}, UTC{offset})";
    }
}
