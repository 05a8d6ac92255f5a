using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Admin.Pages;

public sealed record QueueRow(Issue Issue, string When);

/// <summary>Each edition's queue in the order it goes out (the publisher's rule); move, cancel, audited.</summary>
public sealed class QueueModel(IssueQueue queue, EditionPlan plan, AuditLog audit, IOptions<EditionsOptions> editions)
    : EditorPage
{
    public IReadOnlyList<(string Name, IReadOnlyList<QueueRow> Rows)> Editions { get; private set; } = [];

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public Task OnGetAsync(int? queued, CancellationToken cancellationToken)
    {
        Message = queued is { } id ? $"Issue {id} is queued." : null;
        return LoadAsync(cancellationToken);
    }

    public Task<IActionResult> OnPostEarlierAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "issue moved earlier", () => queue.MoveAsync(id, earlier: true, cancellationToken), "it is already first, pinned, or not queued", cancellationToken);

    public Task<IActionResult> OnPostLaterAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "issue moved later", () => queue.MoveAsync(id, earlier: false, cancellationToken), "it is already last, pinned, or not queued", cancellationToken);

    public Task<IActionResult> OnPostCancelAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "issue cancelled", () => queue.CancelAsync(id, cancellationToken), "it is not queued", cancellationToken);

    public async Task<IActionResult> OnPostPinAsync(int id, DateOnly? day, CancellationToken cancellationToken) =>
        day is null
            ? await ActAsync(id, "issue pinned", () => Task.FromResult(false), "no day was given", cancellationToken)
            : await PinAsync(id, day, $"issue pinned to {day:yyyy-MM-dd}", cancellationToken);

    public Task<IActionResult> OnPostUnpinAsync(int id, CancellationToken cancellationToken) => PinAsync(id, null, "issue unpinned", cancellationToken);

    private async Task<IActionResult> PinAsync(int id, DateOnly? day, string action, CancellationToken cancellationToken)
    {
        string? problem = null;
        return await ActAsync(id, action, async () => (problem = await queue.PinAsync(id, day, cancellationToken)) is null,
            () => problem!, cancellationToken);
    }

    private Task<IActionResult> ActAsync(int id, string action, Func<Task<bool>> act, string refusal, CancellationToken cancellationToken) =>
        ActAsync(id, action, act, () => refusal, cancellationToken);

    private async Task<IActionResult> ActAsync(int id, string action, Func<Task<bool>> act, Func<string> refusal, CancellationToken cancellationToken)
    {
        if (await act())
        {
            await audit.RecordAsync(User.Identity!.Name!, action, $"issue {id}", null, cancellationToken);
            Message = $"Issue {id}: {action.Replace("issue ", "", StringComparison.Ordinal)}.";
        }
        else
        {
            Problem = $"Issue {id} was not changed: {refusal()}.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var list = new List<(string, IReadOnlyList<QueueRow>)>();
        foreach (var key in editions.Value.Keys)
        {
            var (schedule, queued, forecast) = await plan.QueueAsync(key, cancellationToken);
            list.Add((editions.Value.Get(key).DisplayName, queued
                .OrderBy(i => forecast[i.Id].Slot ?? DateTimeOffset.MaxValue).ThenBy(i => i.QueuedAt).ThenBy(i => i.Id)
                .Select(i => new QueueRow(i, forecast[i.Id].Slot is { } slot ? schedule.Describe(slot) : forecast[i.Id].Reason!))
                .ToList()));
        }
        Editions = list;
    }
}
