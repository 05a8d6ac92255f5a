using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// The service's own instruments (meter "Newsletter"), recorded where the events happen: delivery
/// outcomes as they are written, publication runs, sign-ups, confirmations, bounces. Created from the
/// host's <see cref="IMeterFactory"/>, so a listener can tell one host's measurements from another's.
/// </summary>
public sealed class NewsletterMetrics
{
    public const string MeterName = "Newsletter";

    /// <summary>Spans of a publication: publish (the slot fires), send (one run), claim (one batch).</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly Counter<long> _messages;
    private readonly Histogram<double> _runDuration;
    private readonly Counter<long> _signups;
    private readonly Counter<long> _confirmations;
    private readonly Counter<long> _bounces;
    private readonly ConcurrentDictionary<SendRun, string> _running = new();
    private readonly ConcurrentDictionary<string, EditionCounters> _editions = new(StringComparer.Ordinal);

    public NewsletterMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _messages = Meter.CreateCounter<long>("newsletter.messages", "{message}",
            "Delivery outcomes recorded, by edition and outcome (sent, failed, retried, skipped).");
        _runDuration = Meter.CreateHistogram<double>("newsletter.publication.duration", "s",
            "How long a run of a publication's send took, by edition and how it ended.");
        _signups = Meter.CreateCounter<long>("newsletter.signups", "{signup}", "Sign-up requests accepted (each asks for a confirmation).");
        _confirmations = Meter.CreateCounter<long>("newsletter.confirmations", "{confirmation}", "Sign-ups confirmed by their reader.");
        _bounces = Meter.CreateCounter<long>("newsletter.bounces", "{report}", "Bounce and complaint reports recorded, by kind.");
        Meter.CreateObservableGauge("newsletter.send.rate", ObserveRates, "{message}/s",
            "Messages per second of the runs sending now, by edition.");
    }

    public Meter Meter { get; }

    /// <summary>The counters of one edition's outcomes, with their tags built once.</summary>
    internal EditionCounters For(string edition) => _editions.GetOrAdd(edition, e => new EditionCounters(_messages, e));

    /// <summary>Counts the run in the send-rate gauge until disposed, then records its duration.</summary>
    internal IDisposable Running(SendRun run, Func<string> status)
    {
        _running[run] = run.Publication.Edition;
        return new RunEnd(this, run, status);
    }

    public void SignedUp() => _signups.Add(1);

    public void Confirmed() => _confirmations.Add(1);

    public void Bounced(string kind) => _bounces.Add(1, new KeyValuePair<string, object?>("newsletter.bounce.kind", kind));

    private IEnumerable<Measurement<double>> ObserveRates() =>
        _running.GroupBy(r => r.Value, StringComparer.Ordinal)
            .Select(g => new Measurement<double>(g.Sum(r => r.Key.Rate), new KeyValuePair<string, object?>("newsletter.edition", g.Key)));

    private sealed class RunEnd(NewsletterMetrics metrics, SendRun run, Func<string> status) : IDisposable
    {
        public void Dispose()
        {
            metrics._running.TryRemove(run, out _);
            metrics._runDuration.Record(run.Clock.Elapsed.TotalSeconds,
                new KeyValuePair<string, object?>("newsletter.edition", run.Publication.Edition),
                new KeyValuePair<string, object?>("newsletter.publication.status", status()));
        }
    }
}

/// <summary>One edition's outcome counter tags, so the hot path allocates nothing per message.</summary>
internal sealed class EditionCounters(Counter<long> messages, string edition)
{
    private readonly KeyValuePair<string, object?>[] _sent = Tags(edition, "sent");
    private readonly KeyValuePair<string, object?>[] _failed = Tags(edition, "failed");
    private readonly KeyValuePair<string, object?>[] _retried = Tags(edition, "retried");
    private readonly KeyValuePair<string, object?>[] _skipped = Tags(edition, "skipped");

    /// <summary>An outcome as the writer stored it: accepted (still claimed) and sent count as sent, pending as a retry.</summary>
    public void Recorded(DeliveryStatus status)
    {
        var tags = status switch
        {
            DeliveryStatus.Claimed or DeliveryStatus.Sent => _sent,
            DeliveryStatus.Failed => _failed,
            DeliveryStatus.Pending => _retried,
            DeliveryStatus.Skipped => _skipped,
            _ => null,
        };
        if (tags is not null && messages.Enabled)
        {
            messages.Add(1, tags);
        }
    }

    private static KeyValuePair<string, object?>[] Tags(string edition, string outcome) =>
        [new("newsletter.edition", edition), new("newsletter.outcome", outcome)];
}
