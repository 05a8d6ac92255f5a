using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

public sealed class PublicationModel(
    NewsletterDbContext db, PublicationControl control, AuditLog audit, IOptions<EditionsOptions> editions, TimeProvider time) : EditorPage
{
    public PublicationView? View { get; private set; }

    public string? Slot { get; private set; }

    public string? Message { get; private set; }

    public Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken) => ShowAsync(id, null, cancellationToken);

    public Task<IActionResult> OnPostPauseAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "publication paused", control.PauseAsync, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "publication resumed", control.ResumeAsync, cancellationToken);

    public Task<IActionResult> OnPostCancelAsync(int id, CancellationToken cancellationToken) =>
        ActAsync(id, "publication cancelled", control.CancelAsync, cancellationToken);

    private async Task<IActionResult> ActAsync(
        int id, string action, Func<int, CancellationToken, Task<ControlResult>> act, CancellationToken cancellationToken)
    {
        var result = await act(id, cancellationToken);
        if (result.Changed)
        {
            await audit.RecordAsync(User.Identity!.Name!, action, $"publication {id}", null, cancellationToken);
        }
        return await ShowAsync(id, result.Message, cancellationToken);
    }

    private async Task<IActionResult> ShowAsync(int id, string? message, CancellationToken cancellationToken)
    {
        View = await PublicationView.ReadAsync(db, id, time.GetUtcNow().UtcDateTime, cancellationToken);
        if (View is null)
        {
            return NotFound();
        }
        var p = View.Publication;
        Slot = editions.Value.TryGet(p.Edition, out var edition)
            ? new EditionSchedule(edition).Describe(new DateTimeOffset(p.SlotUtc, TimeSpan.Zero))
            : $"{p.SlotUtc:yyyy-MM-dd HH:mm} UTC";
        Message = message;
        return Page();
    }
}
