using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

public sealed class ChangePasswordModel(EditorSignIn signIn, AuditLog audit, NewsletterDbContext db, IOptions<EditorsOptions> options) : PageModel
{
    public bool MustChange => User.FindFirst(EditorCookie.MustChangePasswordClaim)?.Value == "true";

    public int MinimumLength => options.Value.MinimumPasswordLength;

    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? current, string? next, CancellationToken cancellationToken)
    {
        if (EditorCookie.EditorId(User) is not { } id)
        {
            return Challenge(EditorCookie.Scheme);
        }
        Problem = await signIn.ChangePasswordAsync(id, current, next, cancellationToken);
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var editor = await db.Editors.AsNoTracking().SingleAsync(e => e.Id == id, cancellationToken);
        // The stamp in the cookie follows the new password; other sign-ins of this editor end.
        await HttpContext.SignInAsync(EditorCookie.Scheme, EditorCookie.Principal(editor));
        await audit.RecordAsync(editor.Email, "password changed", null, null, cancellationToken);
        return Redirect("/admin");
    }
}
