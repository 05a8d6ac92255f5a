using System.Globalization;

namespace Newsletter.Worker.Editions;

/// <summary>
/// When an edition arrives, in a reader's words ("every Thursday morning (9:00, New York time)"), worked
/// out from its coming slots rather than by reading the cron expression, so any schedule gets a true answer.
/// </summary>
public static class EditionCadence
{
    private const int Sample = 12;

    public static string Describe(EditionSchedule schedule, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var slots = schedule.NextSlots(now, Sample).Select(schedule.ToLocal).ToList();
        if (slots.Count == 0)
        {
            return "from time to time";
        }
        var first = slots[0];
        var hour = first.ToString("H:mm", CultureInfo.InvariantCulture);
        var clock = City(schedule.TimeZone) is { } city ? $" ({hour}, {city} time)" : $" ({hour} {schedule.TimeZone.Id})";
        // The part of the day and the hour only when every slot keeps them.
        var sameTime = slots.All(s => s.TimeOfDay == first.TimeOfDay);
        var part = PartOfDay(first.Hour);
        if (slots.Count > 1 && Gaps(slots).All(g => g == 1))
        {
            return sameTime ? $"every day, in the {part}{clock}" : "every day";
        }
        if (slots.Count > 1 && Gaps(slots).All(g => g == 7))
        {
            return sameTime ? $"every {first.DayOfWeek} {part}{clock}" : $"every {first.DayOfWeek}";
        }
        if (slots.Count > 1 && slots.All(s => s.Day == first.Day) && MonthGaps(slots).All(g => g == 1))
        {
            return sameTime ? $"on the {Ordinal(first.Day)} of every month, in the {part}{clock}" : $"on the {Ordinal(first.Day)} of every month";
        }
        return $"on a schedule of its own, next on {first.ToString("dddd d MMMM", CultureInfo.InvariantCulture)}{clock}";
    }

    private static IEnumerable<int> MonthGaps(List<DateTimeOffset> slots) =>
        slots.Zip(slots.Skip(1), (a, b) => ((b.Year * 12) + b.Month) - ((a.Year * 12) + a.Month));

    private static IEnumerable<int> Gaps(List<DateTimeOffset> slots) =>
        slots.Zip(slots.Skip(1), (a, b) => (DateOnly.FromDateTime(b.DateTime).DayNumber - DateOnly.FromDateTime(a.DateTime).DayNumber));

    private static string PartOfDay(int hour) => hour switch
    {
        >= 5 and < 12 => "morning",
        >= 12 and < 17 => "afternoon",
        >= 17 and < 22 => "evening",
        _ => "night",
    };

    /// <summary>"New York" for America/New_York; null for zones without a city (UTC).</summary>
    private static string? City(TimeZoneInfo zone)
    {
        var slash = zone.Id.LastIndexOf('/');
        return slash < 0 ? null : zone.Id[(slash + 1)..].Replace('_', ' ');
    }

    private static string Ordinal(int day) => day switch
    {
        1 or 21 or 31 => $"{day}st",
        2 or 22 => $"{day}nd",
        3 or 23 => $"{day}rd",
        _ => $"{day}th",
    };
}
