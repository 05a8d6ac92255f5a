using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Admin.Pages;

public sealed class PlanModel(EditionPlan plan, IOptions<EditionsOptions> editions) : EditorPage
{
    public IReadOnlyList<(string Key, string Name, IReadOnlyList<PlannedSlot> Slots)> Editions { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var list = new List<(string, string, IReadOnlyList<PlannedSlot>)>();
        foreach (var key in editions.Value.Keys)
        {
            list.Add((key, editions.Value.Get(key).DisplayName,
                await plan.SlotsAsync(key, TimeSpan.FromDays(28), TimeSpan.FromDays(56), cancellationToken)));
        }
        Editions = list;
    }

    /// <summary>A publication's outcome in a word or two: sent, sending, skipped, missed, stale, paused, cancelled.</summary>
    public static string Result(Publication p) => p.Status switch
    {
        PublicationStatus.Completed => $"sent to {p.RecipientCount}",
        PublicationStatus.Sending => "sending",
        _ => p.Status.ToString().ToLowerInvariant(),
    };
}
