using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Worker.Admin;

/// <summary>A workspace page: an editor still on a one-time password is sent to choose their own first.</summary>
public abstract class EditorPage : PageModel
{
    public override Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (User.FindFirst(EditorCookie.MustChangePasswordClaim)?.Value == "true")
        {
            context.Result = new RedirectResult("/admin/change-password");
            return Task.CompletedTask;
        }
        return next();
    }
}
