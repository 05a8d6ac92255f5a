using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>Every issue an editor is working on: drafts, the queue, and the latest sent or cancelled ones.</summary>
public sealed class IssuesModel(IssueQueue queue, IOptions<EditionsOptions> editions) : EditorPage
{
    public IReadOnlyList<Issue> Issues { get; private set; } = [];

    public string EditionName(string key) => editions.Value.TryGet(key, out var edition) ? edition.DisplayName : key;

    public IEnumerable<EditionOptions> Editions => editions.Value.Keys.Select(editions.Value.Get);

    public async Task OnGetAsync(CancellationToken cancellationToken) => Issues = await queue.WorkspaceListAsync(20, cancellationToken);
}
