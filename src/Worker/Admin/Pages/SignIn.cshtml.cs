using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

[EnableRateLimiting(AdminExtensions.SignInRateLimit)]
public sealed class SignInModel(EditorSignIn signIn, AuditLog audit) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Email { get; private set; }

    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? email, string? password, CancellationToken cancellationToken)
    {
        Email = email;
        var result = await signIn.CheckAsync(email, password, cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.SignedIn:
                await HttpContext.SignInAsync(EditorCookie.Scheme, EditorCookie.Principal(result.Editor!));
                await audit.RecordAsync(result.Editor!.Email, "signed in", null, null, cancellationToken);
                return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && ReturnUrl!.StartsWith("/admin", StringComparison.Ordinal) ? ReturnUrl : "/admin");
            case SignInOutcome.LockedOut:
                // Said only once the password was tried, so it reveals no more than a refusal does.
                Problem = "Too many wrong passwords: this account is locked for now. Try again later, " +
                          "or ask for a new password (newsletter editors reset-password).";
                break;
            default:
                Problem = "That email address and password do not match an editor's account.";
                break;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }
}
