using Microsoft.AspNetCore.Mvc;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>The editors' accounts, managed by an editor as <c>newsletter editors</c> does; each change audited.</summary>
public sealed class EditorsModel(EditorAccounts accounts, AuditLog audit) : EditorPage
{
    public IReadOnlyList<Editor> Editors { get; private set; } = [];

    public string? Problem { get; private set; }

    public string? Message { get; private set; }

    public string? OneTimePassword { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Editors = await accounts.ListAsync(cancellationToken);

    public Task<IActionResult> OnPostAddAsync(string? email, string? name, CancellationToken cancellationToken) =>
        ChangeAsync("editor added", email, () => accounts.AddAsync(email ?? "", name, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostResetAsync(string? email, CancellationToken cancellationToken) =>
        ChangeAsync("editor password reset", email, () => accounts.ResetPasswordAsync(email ?? "", cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostRemoveAsync(string? email, CancellationToken cancellationToken) =>
        string.Equals(email, User.Identity?.Name, StringComparison.OrdinalIgnoreCase)
            ? RefuseAsync("You cannot remove yourself; another editor, or the command line, can.", cancellationToken)
            : ChangeAsync("editor removed", email, () => accounts.RemoveAsync(email ?? "", cancellationToken), cancellationToken);

    private async Task<IActionResult> ChangeAsync(string action, string? email, Func<Task<EditorChange>> change, CancellationToken cancellationToken)
    {
        var result = await change();
        if (!result.Succeeded)
        {
            return await RefuseAsync(result.Error!, cancellationToken);
        }
        await audit.RecordAsync(User.Identity!.Name!, action, $"editor {result.Editor!.Email}", null, cancellationToken);
        Message = $"Done: {action.Replace("editor ", "", StringComparison.Ordinal)}, {result.Editor.Email}.";
        OneTimePassword = result.OneTimePassword;
        Editors = await accounts.ListAsync(cancellationToken);
        return Page();
    }

    private async Task<IActionResult> RefuseAsync(string problem, CancellationToken cancellationToken)
    {
        Problem = problem;
        Editors = await accounts.ListAsync(cancellationToken);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
