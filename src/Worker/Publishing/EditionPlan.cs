using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Publishing;

/// <summary>One slot of an edition's calendar: a past one with its publication (or none), a coming one
/// with the issue that will take it (or none: nothing queued).</summary>
public sealed record PlannedSlot(DateTimeOffset SlotUtc, string When, string Day, bool Past, Publication? Publication, Issue? Issue, bool Pinned);

/// <summary>An edition's slots around now: what went out, and what will, by the publisher's own rule.</summary>
public sealed class EditionPlan(NewsletterDbContext db, IOptions<EditionsOptions> editions, TimeProvider time)
{
    /// <summary>The edition's queued issues, each with the slot it will take (or why none), by the publisher's rule.</summary>
    public async Task<(EditionSchedule Schedule, List<Issue> Queued, IReadOnlyDictionary<int, ForecastSlot> Forecast)> QueueAsync(
        string edition, CancellationToken cancellationToken)
    {
        var schedule = new EditionSchedule(editions.Value.Get(edition));
        var now = time.GetUtcNow();
        var queued = await db.Issues.AsNoTracking()
            .Where(i => i.Edition == edition && i.Status == IssueStatus.Queued).ToListAsync(cancellationToken);
        var taken = (await db.Publications.AsNoTracking().Where(p => p.Edition == edition && p.SlotUtc > now.UtcDateTime)
            .Select(p => p.SlotUtc).ToListAsync(cancellationToken)).ToHashSet();
        return (schedule, queued, QueueForecast.Forecast(schedule, queued, taken, now));
    }

    public async Task<IReadOnlyList<PlannedSlot>> SlotsAsync(string edition, TimeSpan back, TimeSpan ahead, CancellationToken cancellationToken)
    {
        var schedule = new EditionSchedule(editions.Value.Get(edition));
        var now = time.GetUtcNow();
        var from = (now - back).UtcDateTime;
        var until = (now + ahead).UtcDateTime;
        var publications = await db.Publications.AsNoTracking()
            .Where(p => p.Edition == edition && p.SlotUtc > from && p.SlotUtc <= until)
            .ToDictionaryAsync(p => p.SlotUtc, cancellationToken);
        var queued = await db.Issues.AsNoTracking()
            .Where(i => i.Edition == edition && i.Status == IssueStatus.Queued).ToListAsync(cancellationToken);
        var issueIds = publications.Values.Select(p => p.IssueId).OfType<int>().ToList();
        var published = await db.Issues.AsNoTracking().Where(i => issueIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
        var forecast = QueueForecast.Forecast(schedule, queued, publications.Keys.Where(s => s > now.UtcDateTime).ToHashSet(), now);
        var bySlot = queued.Where(i => forecast[i.Id].Slot is not null).ToDictionary(i => forecast[i.Id].Slot!.Value.UtcDateTime);

        return [.. schedule.SlotsBetween(now - back, now + ahead).Select(slot =>
        {
            var publication = publications.GetValueOrDefault(slot.UtcDateTime);
            var issue = publication?.IssueId is { } id ? published.GetValueOrDefault(id) : slot > now ? bySlot.GetValueOrDefault(slot.UtcDateTime) : null;
            var day = schedule.ToLocal(slot).ToString("ddd d MMM", CultureInfo.InvariantCulture);
            return new PlannedSlot(slot, schedule.Describe(slot), day, slot <= now, publication, issue, issue?.SendOn is not null);
        })];
    }
}
