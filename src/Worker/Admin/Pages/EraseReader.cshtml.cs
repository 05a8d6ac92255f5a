using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>Erasing a reader, as <c>newsletter subscribers erase</c> does: a confirmation that says what is kept, then the erasure.</summary>
public sealed class EraseReaderModel(NewsletterDbContext db, PersonalDataService personalData, AuditLog audit) : EditorPage
{
    public string? Email { get; private set; }

    public bool Erased { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        Email = await EmailAsync(id, cancellationToken);
        return Email is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var email = await EmailAsync(id, cancellationToken);
        if (email is null)
        {
            return NotFound();
        }
        var result = await personalData.EraseAsync(email, cancellationToken);
        if (result.InvalidAddress)
        {
            // Stored before today's address rules; the profile still goes, by the address as stored.
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Email = email;
            ModelState.AddModelError("", $"Nothing erased: {result.Error}.");
            return Page();
        }
        // Earlier entries named the address; erasure reaches the audit log too, and this entry does not name it.
        await audit.ForgetAsync(email, cancellationToken);
        await audit.RecordAsync(User.Identity!.Name!, "reader erased", $"reader {id}", null, cancellationToken);
        Erased = true;
        return Page();
    }

    private Task<string?> EmailAsync(int id, CancellationToken cancellationToken) =>
        db.Subscribers.Where(s => s.Id == id).Select(s => s.Email).FirstOrDefaultAsync(cancellationToken);
}
