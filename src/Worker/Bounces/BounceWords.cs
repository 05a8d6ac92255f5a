using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <summary>How the command line and the workspace name what came back.</summary>
public static class BounceWords
{
    public static readonly IReadOnlyList<(BounceOutcome Outcome, string Words)> Outcomes =
    [
        (BounceOutcome.Suppressed, "suppressed (hard or repeated soft)"),
        (BounceOutcome.Unsubscribed, "complaints: suppressed and unsubscribed"),
        (BounceOutcome.Counted, "soft bounces counted"),
        (BounceOutcome.NothingToDo, "nothing to do (auto-replies, delays…)"),
        (BounceOutcome.NotOnList, "not about anyone on the list"),
        (BounceOutcome.Forged, "forged VERP tokens ignored"),
        (BounceOutcome.Unreadable, "unreadable or too large"),
    ];

    public static string Outcome(BounceOutcome outcome) => Outcomes.First(o => o.Outcome == outcome).Words;

    public static string Kind(BounceKind kind) => kind switch
    {
        BounceKind.Hard => "hard bounce",
        BounceKind.Soft => "soft bounce",
        BounceKind.Complaint => "complaint",
        _ => "not a bounce",
    };

    public static string Source(BounceSource source) => source switch
    {
        BounceSource.AmazonSes => "amazon-ses",
        _ => source.ToString().ToLowerInvariant(),
    };
}
