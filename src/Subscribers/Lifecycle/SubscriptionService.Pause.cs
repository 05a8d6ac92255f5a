using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>How long a reader may pause every email: the three choices the public pages offer.</summary>
public enum PauseLength
{
    TwoWeeks,
    OneMonth,
    ThreeMonths,
}

/// <summary>A break from every edition, in place of leaving. No email is ever sent about it.</summary>
public sealed partial class SubscriptionService
{
    /// <summary>The form value of each choice, as the pages post it.</summary>
    public static readonly IReadOnlyDictionary<string, PauseLength> PauseChoices = new Dictionary<string, PauseLength>(StringComparer.Ordinal)
    {
        ["2w"] = PauseLength.TwoWeeks,
        ["1m"] = PauseLength.OneMonth,
        ["3m"] = PauseLength.ThreeMonths,
    };

    /// <summary>Pauses every edition until now + <paramref name="length"/> (calendar months, whole seconds).
    /// Pausing again replaces the end date. Null when the reader no longer exists.</summary>
    public async Task<DateTime?> PauseAsync(int subscriberId, PauseLength length, CancellationToken cancellationToken = default)
    {
        var now = Now;
        var until = length switch
        {
            PauseLength.TwoWeeks => now.AddDays(14),
            PauseLength.OneMonth => now.AddMonths(1),
            PauseLength.ThreeMonths => now.AddMonths(3),
            _ => throw new ArgumentOutOfRangeException(nameof(length)),
        };
        var changed = await db.Set<Subscriber>().Where(s => s.Id == subscriberId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.PausedUntil, until), cancellationToken);
        return changed == 1 ? until : null;
    }

    /// <summary>Ends a pause now. Idempotent; false when the reader no longer exists.</summary>
    public async Task<bool> ResumeAsync(int subscriberId, CancellationToken cancellationToken = default) =>
        await db.Set<Subscriber>().Where(s => s.Id == subscriberId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.PausedUntil, (DateTime?)null), cancellationToken) == 1;

    /// <summary>Whether the reader exists, and when their pause ends (null when none is running).</summary>
    public async Task<(bool Exists, DateTime? PausedUntil)> PauseOfAsync(int subscriberId, CancellationToken cancellationToken = default)
    {
        var row = await db.Set<Subscriber>().Where(s => s.Id == subscriberId).Select(s => new { s.PausedUntil }).FirstOrDefaultAsync(cancellationToken);
        return (row is not null, ActivePause(row?.PausedUntil));
    }

    /// <summary>When the reader's pause ends, or null when they are not paused now (a pause in the past counts as none).</summary>
    public DateTime? ActivePause(DateTime? pausedUntil) => pausedUntil is { } until && until > Now ? until : null;

    /// <summary>Stores the reader's crisis-resources region (a key the caller has checked against its table; null for the default).</summary>
    public async Task<bool> SetCrisisRegionAsync(int subscriberId, string? region, CancellationToken cancellationToken = default) =>
        await db.Set<Subscriber>().Where(s => s.Id == subscriberId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CrisisRegion, Clip(region)), cancellationToken) == 1;

    private static string? Clip(string? region) => SignupInput.Clip(region, SubscriberModel.MaxCrisisRegionLength);
}
