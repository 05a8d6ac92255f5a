using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

[EnableRateLimiting(AdminExtensions.SignInRateLimit)]
public sealed class SignInModel(EditorSignIn signIn, AuditLog audit, IOptions<OpenIdConnectSignInOptions> singleSignOn) : PageModel
{
    /// <summary>The single sign-on button's text; null when no provider is configured.</summary>
    public string? SingleSignOnName => singleSignOn.Value.Enabled ? singleSignOn.Value.DisplayName : null;

    /// <summary>Where the single sign-on button leads, keeping the page the editor was sent here from.</summary>
    public string SingleSignOnUrl => QueryHelpers.AddQueryString(SingleSignOn.StartPath, "returnUrl", SingleSignOn.WorkspaceReturnUrl(ReturnUrl));

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Email { get; private set; }

    public string? Problem { get; private set; }

    /// <param name="sso">A refused single sign-on's code: only known codes are shown, as fixed sentences.</param>
    public void OnGet(string? sso)
    {
        Problem = sso is not null && SingleSignOn.Problems.TryGetValue(sso, out var problem) ? problem : null;
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
