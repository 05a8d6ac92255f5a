using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>Send a queued issue now, after a confirmation that says how many readers it reaches.</summary>
public sealed class SendNowModel(IssueQueue queue, Publisher publisher, DeliverySignal delivery, AuditLog audit, IOptions<EditionsOptions> editions) : EditorPage
{
    public Issue? Issue { get; private set; }

    public string? EditionName { get; private set; }

    public int Recipients { get; private set; }

    /// <summary>Readers of the edition left out because they paused their emails.</summary>
    public int Paused { get; private set; }

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        try
        {
            var result = await publisher.PublishNowAsync(id, cancellationToken);
            // Start sending at once rather than at the delivery service's next poll.
            delivery.Notify();
            await audit.RecordAsync(User.Identity!.Name!, "issue sent now", $"issue {id}",
                $"publication {result.Publication!.Id}, {result.Publication.RecipientCount} recipients", cancellationToken);
            return Redirect($"/admin/publications/{result.Publication.Id}");
        }
        catch (InvalidOperationException ex)
        {
            // The publisher's refusals (not queued any more) are meant for the editor.
            Problem = $"Not sent: {ex.Message}.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
    }

    private async Task<bool> LoadAsync(int id, CancellationToken cancellationToken)
    {
        Issue = await queue.FindAsync(id, cancellationToken);
        if (Issue is null)
        {
            return false;
        }
        EditionName = editions.Value.TryGet(Issue.Edition, out var edition) ? edition.DisplayName : Issue.Edition;
        (Recipients, Paused) = await publisher.CountAudienceAsync(Issue.Edition, cancellationToken);
        if (Issue.Status != IssueStatus.Queued)
        {
            Problem ??= $"Issue {id} is {Issue.Status.ToString().ToLowerInvariant()}, not queued.";
        }
        return true;
    }
}
