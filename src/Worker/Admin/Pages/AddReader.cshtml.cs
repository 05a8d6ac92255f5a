using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lists;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>Adds a reader as <c>newsletter subscribers add</c> does, with its checks; audited.</summary>
public sealed class AddReaderModel(SubscriberList list, IOptions<EditionsOptions> editions, AuditLog audit) : EditorPage
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public List<string> Chosen { get; set; } = [];

    [BindProperty]
    public bool Confirmed { get; set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<(string Key, string Name)> Editions =>
        [.. editions.Value.Keys.Select(k => (k, editions.Value.Get(k).DisplayName))];

    public void OnGet() => Chosen = [.. editions.Value.Keys];

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (Chosen.Count == 0)
        {
            // The command line takes no editions to mean all of them; a form with every box cleared means none.
            return Refuse("Choose at least one edition.");
        }
        var result = await list.AddAsync(Email ?? "", Name, Chosen, Confirmed, cancellationToken);
        if (!result.Succeeded)
        {
            return Refuse($"Not added: {result.Error}.");
        }
        var reader = result.Subscriber!;
        await audit.RecordAsync(User.Identity!.Name!, "reader added", reader.NormalizedEmail,
            $"{(Confirmed ? "confirmed" : "pending")}; {string.Join(", ", reader.Subscriptions.Select(s => s.Edition))}", cancellationToken);
        return Redirect($"/admin/readers/{reader.Id}");
    }

    private PageResult Refuse(string problem)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
