using Microsoft.Extensions.Time.Testing;
using Newsletter.Worker.Editions;

namespace Newsletter.Tests.Editions;

/// <summary>Edition schedules: cron in the edition's own zone, across DST changes and month ends.</summary>
public sealed class ScheduleTests
{
    private static EditionSchedule Weekly(string cron = "0 0 9 ? * MON") => new(new EditionOptions
    {
        Key = "weekly-fact", DisplayName = "Fact of the Week", Schedule = cron, TimeZone = "America/New_York",
    });

    private static EditionSchedule Monthly() => new(new EditionOptions
    {
        Key = "monthly-spotlight", DisplayName = "Monthly Spotlight", Schedule = "0 0 9 1 * ?", TimeZone = "America/New_York",
    });

    private static DateTimeOffset Utc(int y, int m, int d, int h = 0, int min = 0) => new(y, m, d, h, min, 0, TimeSpan.Zero);

    private static DateTimeOffset Now(DateTimeOffset utc) => new FakeTimeProvider(utc).GetUtcNow();

    [Fact]
    public void Monday_nine_in_New_York_is_1300_UTC_before_the_autumn_change_and_1400_UTC_after_it()
    {
        var schedule = Weekly();

        Assert.Equal(Utc(2026, 10, 26, 13), schedule.NextSlotAfter(Now(Utc(2026, 10, 23, 12))));
        Assert.Equal(Utc(2026, 11, 2, 14), schedule.NextSlotAfter(Now(Utc(2026, 10, 30, 12))));
        Assert.Equal(
            [Utc(2026, 10, 26, 13), Utc(2026, 11, 2, 14), Utc(2026, 11, 9, 14)],
            schedule.NextSlots(Now(Utc(2026, 10, 20)), 3).ToList());
    }

    [Fact]
    public void Every_slot_across_the_autumn_change_is_nine_oclock_local_time()
    {
        var schedule = Weekly();

        foreach (var slot in schedule.NextSlots(Now(Utc(2026, 10, 1)), 8))
        {
            var local = schedule.ToLocal(slot);
            Assert.Equal((DayOfWeek.Monday, 9, 0), (local.DayOfWeek, local.Hour, local.Minute));
            Assert.Equal(TimeSpan.Zero, slot.Offset);
        }
    }

    [Fact]
    public void Monday_nine_in_New_York_moves_from_1400_to_1300_UTC_at_the_March_2027_change()
    {
        var schedule = Weekly();

        // DST starts on Sunday 14 March 2027.
        Assert.Equal(
            [Utc(2027, 3, 8, 14), Utc(2027, 3, 15, 13), Utc(2027, 3, 22, 13)],
            schedule.NextSlots(Now(Utc(2027, 3, 5)), 3).ToList());
    }

    [Fact]
    public void A_slot_exactly_at_now_is_not_the_next_slot()
    {
        var schedule = Weekly();

        Assert.Equal(Utc(2026, 11, 9, 14), schedule.NextSlotAfter(Now(Utc(2026, 11, 2, 14))));
    }

    [Fact]
    public void The_monthly_slot_after_January_31_is_February_1_at_nine_local()
    {
        var schedule = Monthly();

        Assert.Equal(Utc(2027, 2, 1, 14), schedule.NextSlotAfter(Now(Utc(2027, 1, 31, 12))));
        // 03:00 UTC on 1 February is still 31 January in New York: the slot is that morning's.
        Assert.Equal(Utc(2027, 2, 1, 14), schedule.NextSlotAfter(Now(Utc(2027, 2, 1, 3))));
    }

    [Fact]
    public void The_monthly_slot_after_December_is_January_1_of_the_next_year()
    {
        var schedule = Monthly();

        Assert.Equal(Utc(2027, 1, 1, 14), schedule.NextSlotAfter(Now(Utc(2026, 12, 1, 15))));
        Assert.Equal(
            [Utc(2026, 12, 1, 14), Utc(2027, 1, 1, 14), Utc(2027, 2, 1, 14)],
            schedule.NextSlots(Now(Utc(2026, 11, 20)), 3).ToList());
    }

    [Fact]
    public void The_monthly_slot_follows_the_spring_change_too()
    {
        var schedule = Monthly();

        Assert.Equal([Utc(2027, 3, 1, 14), Utc(2027, 4, 1, 13)], schedule.NextSlots(Now(Utc(2027, 2, 2)), 2).ToList());
    }

    [Fact]
    public void SlotsBetween_excludes_the_start_includes_the_end_and_is_oldest_first()
    {
        var schedule = Weekly();

        Assert.Equal(
            [Utc(2026, 11, 2, 14), Utc(2026, 11, 9, 14)],
            schedule.SlotsBetween(Utc(2026, 10, 26, 13), Utc(2026, 11, 9, 14)));
        Assert.Empty(schedule.SlotsBetween(Utc(2026, 11, 2, 14), Utc(2026, 11, 9, 13, 59)));
    }

    [Fact]
    public void SlotsBetween_keeps_the_newest_slots_when_there_are_more_than_the_limit()
    {
        var schedule = Weekly();

        Assert.Equal(
            [Utc(2026, 11, 2, 14), Utc(2026, 11, 9, 14)],
            schedule.SlotsBetween(Utc(2026, 9, 1), Utc(2026, 11, 10), limit: 2));
    }

    [Fact]
    public void LocalDate_is_the_date_in_the_editions_zone()
    {
        var schedule = Monthly();

        Assert.Equal(new DateOnly(2027, 2, 1), schedule.LocalDate(Utc(2027, 2, 1, 14)));
        Assert.Equal(new DateOnly(2027, 1, 31), schedule.LocalDate(Utc(2027, 2, 1, 3)));
    }

    [Fact]
    public void Describe_shows_local_time_and_names_the_zone_and_offset()
    {
        var schedule = Weekly();

        Assert.Equal("Mon 2 Nov 2026 09:00 (America/New_York, UTC-05:00)", schedule.Describe(Utc(2026, 11, 2, 14)));
        Assert.Equal("Mon 26 Oct 2026 09:00 (America/New_York, UTC-04:00)", schedule.Describe(Utc(2026, 10, 26, 13)));
    }

    [Fact]
    public void A_zone_east_of_UTC_describes_a_positive_offset()
    {
        var schedule = new EditionSchedule(new EditionOptions { Schedule = "0 0 9 ? * MON", TimeZone = "Europe/Berlin" });

        Assert.Equal(Utc(2026, 11, 2, 8), schedule.NextSlotAfter(Now(Utc(2026, 10, 30))));
        Assert.Equal("Mon 2 Nov 2026 09:00 (Europe/Berlin, UTC+01:00)", schedule.Describe(Utc(2026, 11, 2, 8)));
    }
}
