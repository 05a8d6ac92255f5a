using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>The signed-in editor's own account: which emails the service sends them, audited when changed.</summary>
public sealed class AccountModel(EditorNotifications notifications, AuditLog audit, NewsletterDbContext db, IOptions<EditorsOptions> options)
    : EditorPage
{
    public bool EmptySlotWarnings { get; private set; }

    public bool PublicationSummaries { get; private set; }

    /// <summary>"3 days": how far ahead empty slots are warned about; null when the service has the warnings off.</summary>
    public string? WarningWindow => options.Value.EmptySlotWarning > TimeSpan.Zero ? Days(options.Value.EmptySlotWarning) : null;

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await db.Editors.AsNoTracking().FirstOrDefaultAsync(e => e.Email == User.Identity!.Name, cancellationToken) is not { } editor)
        {
            return Challenge(EditorCookie.Scheme);
        }
        Show(editor);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(bool emptySlots, bool summaries, CancellationToken cancellationToken)
    {
        var email = User.Identity!.Name!;
        var result = await notifications.ChooseAsync(email, emptySlots, summaries, cancellationToken);
        if (!result.Succeeded)
        {
            return Challenge(EditorCookie.Scheme);
        }
        var choice = EditorNotifications.Describe(result.Editor!);
        await audit.RecordAsync(email, "notifications changed", $"editor {email}", choice, cancellationToken);
        Show(result.Editor!);
        Message = $"Saved: {choice}.";
        return Page();
    }

    private void Show(Editor editor)
    {
        EmptySlotWarnings = !editor.MuteEmptySlotWarnings;
        PublicationSummaries = !editor.MutePublicationSummaries;
    }

    private static string Days(TimeSpan span) => span.TotalDays is var d && d == Math.Floor(d)
        ? $"{d:0} day{(d == 1 ? "" : "s")}"
        : $"{span.TotalHours:0.#} hours";
}
