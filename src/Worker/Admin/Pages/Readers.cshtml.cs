using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Export;
using Newsletter.Worker.Admin.Readers;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>The readers: search by address or name, filter by edition and state, a page of 50 at a time; the list as CSV.</summary>
public sealed class ReadersModel(ReaderSearch search, IOptions<EditionsOptions> editions, AuditLog audit) : EditorPage
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Text { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Edition { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? After { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? Before { get; set; }

    public ReaderPage? Results { get; private set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<(string Key, string Name)> Editions =>
        [.. editions.Value.Keys.Select(k => (k, editions.Value.Get(k).DisplayName))];

    public static readonly IReadOnlyList<(string Value, string Label)> States =
    [
        ("pending", "Pending (not confirmed yet)"),
        ("confirmed", "Confirmed"),
        ("unsubscribed", "Unsubscribed (from it, or from all)"),
        ("suppressed", "Suppressed"),
        ("paused", "Paused (taking a break)"),
    ];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        ReaderState? state = null;
        if (!string.IsNullOrEmpty(State))
        {
            if (!Enum.TryParse<ReaderState>(State, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(State, out _))
            {
                return Refuse($"There is no state '{State}': choose pending, confirmed, unsubscribed, suppressed or paused.");
            }
            state = parsed;
        }
        if (!string.IsNullOrEmpty(Edition) && !editions.Value.TryGet(Edition, out _))
        {
            return Refuse($"There is no edition '{Edition}' (known editions: {string.Join(", ", editions.Value.Keys)}).");
        }
        if (Text is { Length: > 254 })
        {
            return Refuse("Search for at most 254 characters.");
        }
        Results = await search.FindAsync(new ReaderQuery(Text, Edition, state, After, Before), cancellationToken);
        return Page();
    }

    /// <summary>The whole list as CSV, in the command line's export format (which imports again).</summary>
    public async Task<IActionResult> OnPostExportAsync([FromServices] SubscriberExporter exporter, CancellationToken cancellationToken)
    {
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = "attachment; filename=\"readers.csv\"";
        int count;
        await using (var writer = new StreamWriter(Response.Body, new UTF8Encoding(false), leaveOpen: true))
        {
            count = await exporter.ExportAsync(writer, cancellationToken);
            await writer.FlushAsync(cancellationToken);
        }
        await audit.RecordAsync(User.Identity!.Name!, "readers exported", $"{count} reader(s) as CSV", null, cancellationToken);
        return new EmptyResult();
    }

    /// <summary>The list's address with this search and the given page.</summary>
    public string PageLink(int? after, int? before)
    {
        var query = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Add($"{key}={Uri.EscapeDataString(value)}");
            }
        }
        Add("q", Text);
        Add("edition", Edition);
        Add("state", State);
        Add("after", after?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("before", before?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "/admin/readers" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
    }

    private PageResult Refuse(string problem)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
