using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>Write a new issue, finish a draft or edit a queued issue: the front matter as fields, the body
/// in Markdown, or an uploaded issue file; checked as <c>issues queue</c> checks a file, each problem beside its field.</summary>
[RequestFormLimits(MultipartBodyLengthLimit = MaxUploadBytes)]
[RequestSizeLimit(MaxUploadBytes + 64 * 1024)]
public sealed class WriteModel(IssueQueue queue, AuditLog audit, IOptions<EditionsOptions> editions) : EditorPage
{
    /// <summary>An issue file is a page of text; anything bigger is not one.</summary>
    public const int MaxUploadBytes = Issues.IssueFileLimits.MaxBytes;

    [BindProperty]
    public IssueForm Form { get; set; } = new();

    public Issue? Issue { get; private set; }

    public EditionOptions? Edition { get; private set; }

    public IReadOnlyList<FormProblem> Problems { get; private set; } = [];

    public IReadOnlyList<string> UploadProblems { get; private set; } = [];

    public string? Message { get; private set; }

    public IReadOnlyList<WriteField> Fields { get; private set; } = [];

    public IEnumerable<EditionOptions> Editions => editions.Value.Keys.Select(editions.Value.Get);

    public IEnumerable<string> ProblemsFor(string field) => Problems.Where(p => p.Field == field).Select(p => p.Message);

    public async Task<IActionResult> OnGetAsync(int? id, string? edition, string? saved, CancellationToken cancellationToken)
    {
        if (id is { } existing)
        {
            if (await queue.FindAsync(existing, cancellationToken) is not { } issue)
            {
                return NotFound();
            }
            Form = IssueForm.From(issue);
            Message = saved switch
            {
                "draft" => "Draft saved. It stays here until you queue it.",
                "queued" => "Saved: the queued issue has the new content.",
                _ => null,
            };
            return Show(issue);
        }
        Form = new IssueForm { Edition = edition ?? "" };
        return Show(null);
    }

    public async Task<IActionResult> OnPostDraftAsync(int? id, CancellationToken cancellationToken)
    {
        var result = await queue.SaveDraftAsync(id, Form, cancellationToken);
        if (!result.Succeeded)
        {
            return await ProblemsAsync(id, result.Problems, cancellationToken);
        }
        await audit.RecordAsync(User.Identity!.Name!, id is null ? "draft created" : "draft saved", $"issue {result.Issue!.Id}", result.Issue.Subject, cancellationToken);
        return Redirect($"/admin/issues/write/{result.Issue.Id}?saved=draft");
    }

    public async Task<IActionResult> OnPostQueueAsync(int? id, CancellationToken cancellationToken)
    {
        var before = id is { } existing ? await queue.FindAsync(existing, cancellationToken) : null;
        var result = await queue.SubmitAsync(id, Form, cancellationToken);
        if (!result.Succeeded)
        {
            return await ProblemsAsync(id, result.Problems, cancellationToken);
        }
        var issue = result.Issue!;
        if (before?.Status == IssueStatus.Queued)
        {
            await audit.RecordAsync(User.Identity!.Name!, "issue edited", $"issue {issue.Id}", issue.Subject, cancellationToken);
            return Redirect($"/admin/issues/write/{issue.Id}?saved=queued");
        }
        await audit.RecordAsync(User.Identity!.Name!, "issue queued", $"issue {issue.Id}", issue.Subject, cancellationToken);
        return Redirect($"/admin/queue?queued={issue.Id}");
    }

    /// <summary>Reads an uploaded issue file into the form (nothing is saved until the editor saves or queues it).</summary>
    public async Task<IActionResult> OnPostUploadAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        var problems = await ReadUploadAsync(file, cancellationToken);
        if (problems.Count > 0)
        {
            UploadProblems = problems;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Form = new IssueForm();
            return Show(null);
        }
        Message = $"Read {file!.FileName}. Check it below, then save it as a draft or queue it.";
        return Show(null);
    }

    private async Task<IReadOnlyList<string>> ReadUploadAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return ["choose an issue file (.md) to upload"];
        }
        var name = Path.GetFileName(file.FileName);
        if (!name.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && !name.EndsWith(".markdown", StringComparison.OrdinalIgnoreCase))
        {
            return [$"{name}: an issue file is Markdown with front matter, named .md"];
        }
        if (file.Length > MaxUploadBytes)
        {
            return [$"{name}: the file is {file.Length / 1024} KB; an issue file is at most {MaxUploadBytes / 1024} KB"];
        }
        string text;
        try
        {
            using var reader = new StreamReader(file.OpenReadStream(), new UTF8Encoding(false, throwOnInvalidBytes: true));
            text = await reader.ReadToEndAsync(cancellationToken);
        }
        catch (DecoderFallbackException)
        {
            return [$"{name}: the file is not UTF-8 text"];
        }
        var (form, problems) = queue.ReadUpload(name, text);
        if (form is not null)
        {
            Form = form;
        }
        return problems;
    }

    private async Task<IActionResult> ProblemsAsync(int? id, IReadOnlyList<FormProblem> problems, CancellationToken cancellationToken)
    {
        Problems = problems;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        var issue = id is { } existing ? await queue.FindAsync(existing, cancellationToken) : null;
        if (id is not null && issue is null)
        {
            return NotFound();
        }
        return Show(issue);
    }

    private IActionResult Show(Issue? issue)
    {
        Issue = issue;
        Edition = editions.Value.TryGet(Form.Edition, out var edition) ? edition : null;
        Fields = Edition is null ? [] : WriteFields.For(Form, Edition.Format);
        return Page();
    }
}
