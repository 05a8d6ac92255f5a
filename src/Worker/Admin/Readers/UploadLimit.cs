using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Newsletter.Worker.Admin.Readers;

/// <summary>
/// Refuses a form larger than <see cref="MaxFileBytes"/> (plus the form's own fields) before anything
/// reads it, the antiforgery check included, by sending the editor back to <paramref name="page"/>
/// with <c>?too-large</c>, where the page says why. A body without a length is cut off by the server's
/// request size limit instead.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class UploadLimitAttribute(string page) : Attribute, IAuthorizationFilter, IOrderedFilter
{
    public const long MaxFileBytes = 10 * 1024 * 1024;

    /// <summary>Room for the form's other fields and the multipart framing around the file.</summary>
    public const long FormAllowance = 64 * 1024;

    public const long MaxRequestBytes = MaxFileBytes + FormAllowance;

    // Before the request size limit and the antiforgery filter (900 and 1000), which read the body.
    public int Order => 800;

    public void OnAuthorization(AuthorizationFilterContext context)
    {
        var request = context.HttpContext.Request;
        if (HttpMethods.IsPost(request.Method) && request.ContentLength > MaxRequestBytes)
        {
            context.Result = new RedirectResult(page + "?too-large=1") { PreserveMethod = false };
        }
    }
}
