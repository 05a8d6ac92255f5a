using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Newsletter.Subscribers.Import;
using Newsletter.Worker.Admin.Readers;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>A CSV import from the browser, through the importer <c>newsletter subscribers import</c> uses, with its row-by-row report.</summary>
[UploadLimit("/admin/readers/import")]
[RequestSizeLimit(UploadLimitAttribute.MaxRequestBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = UploadLimitAttribute.MaxRequestBytes)]
public sealed class ImportReadersModel(SubscriberImporter importer, AuditLog audit) : EditorPage
{
    public string? Problem { get; private set; }

    public string? FileName { get; private set; }

    public ImportReport? Report { get; private set; }

    public string? Summary { get; private set; }

    public static string MaxSize => $"{UploadLimitAttribute.MaxFileBytes / (1024 * 1024)} MB";

    public void OnGet([FromQuery(Name = "too-large")] string? tooLarge)
    {
        if (tooLarge is not null)
        {
            Problem = $"That file is larger than {MaxSize}, the most one upload takes. Split it into smaller files " +
                "(each with the header row), or import it with the command line's 'newsletter subscribers import'.";
        }
    }

    public async Task<IActionResult> OnPostAsync(IFormFile? file, bool dryRun, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return Refuse("Choose a CSV file to import (it was missing or empty).");
        }
        FileName = Path.GetFileName(file.FileName);
        if (file.Length > UploadLimitAttribute.MaxFileBytes)
        {
            return Refuse($"{FileName} is larger than {MaxSize}, the most one upload takes. Split it into smaller files, or use the command line.");
        }
        var csvName = FileName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        var csvType = file.ContentType.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase);
        if (!csvName && !csvType)
        {
            return Refuse($"{FileName} is not a CSV file: choose a .csv file (text/csv).");
        }
        ImportReport report;
        await using (var stream = file.OpenReadStream())
        {
            report = await importer.ImportAsync(stream, dryRun, cancellationToken);
        }
        Report = report;
        if (report.FileError is { } fileError)
        {
            return Refuse($"{FileName}: {fileError} Nothing was imported.");
        }
        var verb = report.DryRun ? "would import" : "imported";
        var dry = report.DryRun ? " (dry run: nothing was changed)" : "";
        Summary = FormattableString.Invariant($"{report.Rows} row(s): {verb} {report.Imported} ({report.ImportedConfirmed} confirmed, {report.ImportedPending} pending without consent evidence), {report.AlreadyOnList} already on the list, {report.Problems.Count} refused{dry}.");
        if (!report.DryRun)
        {
            await audit.RecordAsync(User.Identity!.Name!, "readers imported", FileName, Summary, cancellationToken);
        }
        return Page();
    }

    private PageResult Refuse(string problem)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
