using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Operations;

/// <summary>
/// Gauges of what the database holds: issues queued and the next slot per edition, sign-up emails
/// waiting. Read when a collector asks (not at start), at most once per <see cref="MaxAge"/>.
/// </summary>
internal sealed class StateGauges
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(15);

    private static readonly Snapshot Empty = new(new Dictionary<string, long>(), new Dictionary<string, long>(), 0);

    private readonly IServiceScopeFactory _scopes;
    private readonly IOptions<EditionsOptions> _editions;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (Snapshot Values, DateTimeOffset At)? _last;

    public StateGauges(NewsletterMetrics metrics, IServiceScopeFactory scopes, IOptions<EditionsOptions> editions, TimeProvider time)
    {
        _scopes = scopes;
        _editions = editions;
        _time = time;
        metrics.Meter.CreateObservableGauge("newsletter.issues.queued",
            () => PerEdition(s => s.Queued), "{issue}", "Issues waiting in the queue, by edition.");
        metrics.Meter.CreateObservableGauge("newsletter.edition.next_slot",
            () => PerEdition(s => s.NextSlot), "s", "The edition's next slot, in seconds since 1970-01-01 UTC.");
        metrics.Meter.CreateObservableGauge("newsletter.signup_emails.waiting",
            () => Read().SignupEmailsWaiting, "{email}", "Sign-up emails (confirmations, notices) not yet sent.");
    }

    private IEnumerable<Measurement<long>> PerEdition(Func<Snapshot, IReadOnlyDictionary<string, long>> pick) =>
        pick(Read()).Select(e => new Measurement<long>(e.Value, new KeyValuePair<string, object?>("newsletter.edition", e.Key)));

    private Snapshot Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_last is { } last && now - last.At < MaxAge)
            {
                return last.Values;
            }
            try
            {
                _last = (Query(now), now);
            }
            catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException)
            {
                // The database is away (readiness says so); the gauges keep their last values meanwhile.
                _last = (_last?.Values ?? Empty, now);
            }
            return _last.Value.Values;
        }
    }

    // Synchronous: a collector's callback cannot await. Two small indexed counts.
    private Snapshot Query(DateTimeOffset now)
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        var queued = db.Issues.Where(i => i.Status == IssueStatus.Queued).GroupBy(i => i.Edition)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToDictionary(g => g.Key, g => g.Count, StringComparer.Ordinal);
        var waiting = db.Set<OutgoingEmail>().LongCount(e => e.Status == OutgoingEmailStatus.Pending || e.Status == OutgoingEmailStatus.Sending);
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        var editions = _editions.Value;
        foreach (var key in editions.Keys)
        {
            queued.TryAdd(key, 0);
            if (new EditionSchedule(editions.Get(key)).NextSlotAfter(now) is { } slot)
            {
                next[key] = slot.ToUnixTimeSeconds();
            }
        }
        return new Snapshot(queued, next, waiting);
    }

    private sealed record Snapshot(IReadOnlyDictionary<string, long> Queued, IReadOnlyDictionary<string, long> NextSlot, long SignupEmailsWaiting);
}
