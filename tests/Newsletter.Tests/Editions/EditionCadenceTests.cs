using Newsletter.Worker.Editions;

namespace Newsletter.Tests.Editions;

/// <summary>When an edition arrives, in the words the welcome email uses, worked out from its slots.</summary>
public sealed class EditionCadenceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 2, 14, 0, 0, TimeSpan.Zero);

    private static string Describe(string cron, string zone = "America/New_York") =>
        EditionCadence.Describe(new EditionSchedule(new EditionOptions { Key = "x", Schedule = cron, TimeZone = zone }), Now);

    [Theory]
    [InlineData("0 0 9 ? * THU", "America/New_York", "every Thursday morning (9:00, New York time)")]
    [InlineData("0 0 9 ? * MON", "America/New_York", "every Monday morning (9:00, New York time)")]
    [InlineData("0 0 9 1 * ?", "America/New_York", "on the 1st of every month, in the morning (9:00, New York time)")]
    [InlineData("0 30 19 * * ?", "UTC", "every day, in the evening (19:30 UTC)")]
    [InlineData("0 0 14 ? * SAT", "Europe/Berlin", "every Saturday afternoon (14:00, Berlin time)")]
    [InlineData("0 0 8 ? * MON,THU", "America/New_York", "on a schedule of its own, next on Thursday 5 November (8:00, New York time)")]
    public void A_schedule_reads_as_a_person_would_say_it(string cron, string zone, string expected) =>
        Assert.Equal(expected, Describe(cron, zone));
}
