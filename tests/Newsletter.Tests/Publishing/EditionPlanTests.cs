using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Publishing;

/// <summary>The workspace's calendar: past slots with their publication, coming ones with the issue the
/// publisher will take (pinned on their day, the rest in queue order), empty ones flagged.</summary>
public sealed class EditionPlanTests
{
    // Monday 4 January 2027, noon UTC. Tip of the Week goes out Thursdays 09:00 New York (14:00 UTC).
    private static readonly DateTimeOffset Monday = new(2027, 1, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Each_slot_shows_what_went_out_or_what_will()
    {
        await using var app = TestApp.Create();
        foreach (var (subject, pin) in new[] { ("First in the queue", ""), ("Pinned to the fourteenth", "send_on: 2027-01-14"), ("Second in the queue", "") })
        {
            var file = app.WriteFile($"{Guid.NewGuid():N}.md", pin.Length == 0 ? TestData.TipIssue(subject) : TestData.TipIssue(subject, pin));
            Assert.Equal(0, (await app.RunCliAsync(["issues", "queue", file], now: Monday)).ExitCode);
        }
        await using (var db = app.OpenDb())
        {
            db.Publications.Add(new Publication
            {
                Edition = "weekly-tip", SlotUtc = new DateTime(2026, 12, 31, 14, 0, 0, DateTimeKind.Utc),
                Status = PublicationStatus.Skipped, Kind = PublicationKind.Scheduled, CreatedAt = new DateTime(2026, 12, 31, 14, 0, 0, DateTimeKind.Utc),
            });
            await db.SaveChangesAsync();
        }
        using var host = app.BuildHost(s => s.AddSingleton<TimeProvider>(new FakeTimeProvider(Monday)));
        await using var scope = host.Services.CreateAsyncScope();

        var slots = await scope.ServiceProvider.GetRequiredService<EditionPlan>()
            .SlotsAsync("weekly-tip", TimeSpan.FromDays(7), TimeSpan.FromDays(28), CancellationToken.None);

        Assert.Equal(["2026-12-31", "2027-01-07", "2027-01-14", "2027-01-21", "2027-01-28"],
            slots.Select(s => s.SlotUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        Assert.True(slots[0].Past);
        Assert.Equal(PublicationStatus.Skipped, slots[0].Publication!.Status);
        Assert.Equal(["First in the queue", "Pinned to the fourteenth", "Second in the queue", null], slots.Skip(1).Select(s => s.Issue?.Subject));
        Assert.Equal([false, true, false, false], slots.Skip(1).Select(s => s.Pinned));
        Assert.Equal("Thu 28 Jan", slots[4].Day);
        Assert.All(slots.Skip(1), s => Assert.False(s.Past));
    }
}
