using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Issues;

/// <summary>A problem found in the workspace's issue form, with the field it is about
/// (a front-matter key, <see cref="IssueForm.BodyField"/>, or <see cref="IssueForm.WholeIssue"/>).</summary>
public sealed record FormProblem(string Field, string Message);

public sealed record FormResult(Issue? Issue, IReadOnlyList<FormProblem> Problems)
{
    public bool Succeeded => Issue is not null && Problems.Count == 0;
}

/// <summary>The workspace's side of the queue: drafts, and issues written or edited in the browser.</summary>
public sealed partial class IssueQueue
{
    /// <summary>Saves the form as a draft: kept as written, checked only so that it can be stored.
    /// A new draft when <paramref name="id"/> is null; else that draft, which must still be one.</summary>
    public async Task<FormResult> SaveDraftAsync(int? id, IssueForm form, CancellationToken cancellationToken = default)
    {
        var problems = new List<FormProblem>();
        if (!editions.Value.TryGet(form.Edition, out _))
        {
            problems.Add(new FormProblem("edition", $"unknown edition '{form.Edition}' (known editions: {string.Join(", ", editions.Value.Keys)})"));
        }
        if ((form.Subject?.Trim().Length ?? 0) > IssueFile.MaxSubjectLength)
        {
            problems.Add(new FormProblem("subject", $"the subject is {form.Subject!.Trim().Length} characters; keep it under {IssueFile.MaxSubjectLength}"));
        }
        if ((form.Preheader?.Trim().Length ?? 0) > IssueFile.MaxPreheaderLength)
        {
            problems.Add(new FormProblem("preheader", $"the preheader is {form.Preheader!.Trim().Length} characters; the limit is {IssueFile.MaxPreheaderLength}"));
        }
        DateOnly? sendOn = null;
        if (!string.IsNullOrWhiteSpace(form.SendOn))
        {
            if (DateOnly.TryParseExact(form.SendOn.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                sendOn = date;
            }
            else
            {
                problems.Add(new FormProblem("send_on", $"'{form.SendOn}' is not a date like 2026-12-07"));
            }
        }
        if (problems.Count > 0)
        {
            return new FormResult(null, problems);
        }

        var now = time.GetUtcNow().UtcDateTime;
        Issue issue;
        if (id is { } existing)
        {
            if (await db.Issues.FirstOrDefaultAsync(i => i.Id == existing, cancellationToken) is not { Status: IssueStatus.Draft } draft)
            {
                return new FormResult(null, [new FormProblem(IssueForm.WholeIssue, $"issue {existing} is not a draft any more, so it was not saved as one")]);
            }
            issue = draft;
        }
        else
        {
            issue = new Issue { Edition = form.Edition, Subject = "", BodyMarkdown = "", Status = IssueStatus.Draft, QueuedAt = now };
            db.Issues.Add(issue);
        }
        issue.Edition = form.Edition;
        issue.Subject = form.Subject?.Trim() ?? "";
        issue.Preheader = string.IsNullOrWhiteSpace(form.Preheader) ? null : form.Preheader.Trim();
        issue.SendOn = sendOn;
        issue.ExtrasJson = JsonSerializer.Serialize(form.RawExtras(), EditionEmailFactory.Json);
        issue.BodyMarkdown = form.Body ?? "";
        issue.InArchive = form.Archive;
        issue.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return new FormResult(issue, []);
    }

    /// <summary>
    /// Checks the form as <c>issues queue</c> checks a file and, when it passes, queues it: a new issue
    /// or a draft joins the end of the queue; a queued issue keeps its place and takes the new content,
    /// unless a publication has taken it in the meantime.
    /// </summary>
    public async Task<FormResult> SubmitAsync(int? id, IssueForm form, CancellationToken cancellationToken = default)
    {
        if (!editions.Value.TryGet(form.Edition, out var edition))
        {
            return new FormResult(null, [new FormProblem("edition", $"unknown edition '{form.Edition}' (known editions: {string.Join(", ", editions.Value.Keys)})")]);
        }
        var (text, fieldOfLine) = form.ToFile(edition.Format);
        var (parsed, problems) = await CheckAsync(text, id ?? 0, cancellationToken);
        if (parsed is null)
        {
            return new FormResult(null, problems
                .Select(p => new FormProblem(p.Line > 0 && p.Line < fieldOfLine.Count ? fieldOfLine[p.Line] : IssueForm.WholeIssue, p.Message))
                .ToList());
        }
        if (parsed.SendOn is { } day && await db.Issues.AnyAsync(
                i => i.Id != (id ?? 0) && i.Edition == parsed.Edition && i.Status == IssueStatus.Queued && i.SendOn == day, cancellationToken))
        {
            return new FormResult(null, [new FormProblem("send_on", $"another queued issue is already pinned to {day:yyyy-MM-dd}")]);
        }
        var checkedIssue = ToIssue(parsed, null);
        var now = time.GetUtcNow().UtcDateTime;
        if (id is not { } existing)
        {
            checkedIssue.QueuedAt = now;
            checkedIssue.UpdatedAt = now;
            db.Issues.Add(checkedIssue);
            await db.SaveChangesAsync(cancellationToken);
            return new FormResult(checkedIssue, []);
        }

        // One conditional update: the publisher flips a queued issue to published in a single statement too,
        // so either the edit lands before the publication takes the issue, or it is refused.
        var changed = await db.Issues
            .Where(i => i.Id == existing && (i.Status == IssueStatus.Draft || i.Status == IssueStatus.Queued))
            .ExecuteUpdateAsync(u => u
                .SetProperty(i => i.Edition, checkedIssue.Edition)
                .SetProperty(i => i.Subject, checkedIssue.Subject)
                .SetProperty(i => i.Preheader, checkedIssue.Preheader)
                .SetProperty(i => i.SendOn, checkedIssue.SendOn)
                .SetProperty(i => i.ExtrasJson, checkedIssue.ExtrasJson)
                .SetProperty(i => i.BodyMarkdown, checkedIssue.BodyMarkdown)
                .SetProperty(i => i.InArchive, checkedIssue.InArchive)
                .SetProperty(i => i.UpdatedAt, now)
                // A draft joins the end of the queue now; a queued issue keeps its place.
                .SetProperty(i => i.QueuedAt, i => i.Status == IssueStatus.Draft ? now : i.QueuedAt)
                .SetProperty(i => i.Status, IssueStatus.Queued), cancellationToken);
        if (changed == 0)
        {
            return new FormResult(null, [new FormProblem(IssueForm.WholeIssue,
                $"issue {existing} can no longer be changed: it has been published or cancelled")]);
        }
        return new FormResult(await FindAsync(existing, cancellationToken), []);
    }

    /// <summary>Reads an uploaded issue file into the form, or says what is wrong with it, line by line.</summary>
    public (IssueForm? Form, IReadOnlyList<string> Problems) ReadUpload(string fileName, string text)
    {
        var (parsed, problems) = IssueFile.Parse(text, editions.Value);
        if (parsed is null)
        {
            return (null, problems.Select(p => p.Format(fileName)).ToList());
        }
        return (IssueForm.From(ToIssue(parsed, null)), []);
    }

    /// <summary>Drafts first (latest change first), then the queue in the order it goes out, then recent published or cancelled issues.</summary>
    public async Task<IReadOnlyList<Issue>> WorkspaceListAsync(int recentDone, CancellationToken cancellationToken = default)
    {
        var open = await db.Issues.AsNoTracking()
            .Where(i => i.Status == IssueStatus.Draft || i.Status == IssueStatus.Queued)
            .OrderByDescending(i => i.Status).ThenBy(i => i.Edition).ThenBy(i => i.SendOn).ThenBy(i => i.QueuedAt).ThenBy(i => i.Id)
            .ToListAsync(cancellationToken);
        var done = await db.Issues.AsNoTracking()
            .Where(i => i.Status == IssueStatus.Published || i.Status == IssueStatus.Cancelled)
            .OrderByDescending(i => i.Id).Take(recentDone)
            .ToListAsync(cancellationToken);
        return [.. open, .. done];
    }
}
