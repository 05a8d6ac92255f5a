using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>An issue exactly as a reader gets it (the same renderer, links that unsubscribe nobody): 600 px and
/// phone width, light and dark, its size against Gmail's clipping limit, and a real test email to an address.</summary>
public sealed class PreviewModel(IssueQueue queue, IssueTestSend testSend, AuditLog audit, IOptions<EditionsOptions> editions) : EditorPage
{
    public Issue? Issue { get; private set; }

    public string EditionName { get; private set; } = "";

    public RenderedEmail? Rendered { get; private set; }

    public string? RenderProblem { get; private set; }

    public int HtmlBytes { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    [BindProperty]
    public string? TestAddress { get; set; }

    [BindProperty]
    public string? TestName { get; set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        TestAddress = User.Identity!.Name;
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    /// <summary>The email's HTML alone, for the page's frames: sandboxed (no script runs, no form posts), light or dark forced.</summary>
    public async Task<IActionResult> OnGetHtmlAsync(int id, string? scheme, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        Response.Headers["X-Frame-Options"] = "SAMEORIGIN";
        Response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'";
        var html = Rendered is null
            ? $"<!DOCTYPE html><html lang=\"en\"><title>Not rendered</title><p>This issue does not render yet: {WebUtility.HtmlEncode(RenderProblem)}</p></html>"
            : ForceScheme(Rendered.Html, dark: scheme == "dark");
        return Content(html, "text/html; charset=utf-8");
    }

    public async Task<IActionResult> OnPostTestAsync(int id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (Rendered is null)
        {
            Problem = $"Not sent: the issue does not render yet ({RenderProblem}).";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var name = string.IsNullOrWhiteSpace(TestName) ? null : TestName.Trim();
        var result = await testSend.SendAsync(Issue!, TestAddress ?? "", name, cancellationToken);
        if (!result.Sent)
        {
            Problem = result.Message;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        await audit.RecordAsync(User.Identity!.Name!, "test email sent", $"issue {id}", TestAddress!.Trim(), cancellationToken);
        Message = result.Message;
        return Page();
    }

    /// <summary>The email's dark-mode rules apply when the reader's device is dark; the frames show each
    /// look by turning that media query on or off, whatever the editor's own device prefers.</summary>
    internal static string ForceScheme(string html, bool dark) =>
        html.Replace("(prefers-color-scheme: dark)", dark ? "all" : "not all", StringComparison.Ordinal);

    private async Task<bool> LoadAsync(int id, CancellationToken cancellationToken)
    {
        Issue = await queue.FindAsync(id, cancellationToken);
        if (Issue is null)
        {
            return false;
        }
        EditionName = editions.Value.TryGet(Issue.Edition, out var edition) ? edition.DisplayName : Issue.Edition;
        try
        {
            Rendered = await queue.PreviewAsync(Issue, cancellationToken);
            HtmlBytes = Encoding.UTF8.GetByteCount(Rendered.Html);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A draft may be half written (or its edition gone from the settings): say why, do not fail the page.
            RenderProblem = ex.Message;
        }
        return true;
    }
}
