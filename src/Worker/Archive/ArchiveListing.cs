using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Archive;

/// <summary>One past issue as a list or feed shows it.</summary>
public sealed record ArchivedIssue(string Edition, string ArchiveKey, string Subject, string Summary, DateTime PublishedAt)
{
    public DateOnly Date => ArchiveKeys.DateOf(ArchiveKey) ?? DateOnly.FromDateTime(PublishedAt);
}

/// <summary>The archive's contents: published issues of configured editions, kept in the archive, newest first.</summary>
public static class ArchiveListing
{
    public const int PageSize = 20;

    public const int MaxSummaryLength = 200;

    /// <summary>One page of the archive (1-based) and how many pages there are; a page past the end is empty.</summary>
    public static async Task<(IReadOnlyList<ArchivedIssue> Issues, int PageCount)> PageAsync(
        NewsletterDbContext db, string[] editions, int page, int pageSize, CancellationToken cancellationToken)
    {
        var query = db.Issues.AsNoTracking()
            .Where(i => i.Status == IssueStatus.Published && i.InArchive && i.ArchiveKey != null && editions.Contains(i.Edition));
        var count = await query.CountAsync(cancellationToken);
        var rows = await query
            .OrderByDescending(i => i.PublishedAt).ThenByDescending(i => i.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(i => new { i.Edition, i.ArchiveKey, i.Subject, i.Preheader, i.ExtrasJson, i.PublishedAt, i.QueuedAt })
            .ToListAsync(cancellationToken);
        var issues = rows.Select(r => new ArchivedIssue(
            r.Edition, r.ArchiveKey!, r.Subject, Summary(r.Preheader, r.ExtrasJson), r.PublishedAt ?? r.QueuedAt)).ToList();
        return (issues, Math.Max(1, (count + pageSize - 1) / pageSize));
    }

    /// <summary>The page number asked for: none is page 1; anything but one whole number from 1 is no page at all.</summary>
    public static int? PageNumber(HttpRequest request)
    {
        var values = request.Query["page"];
        if (values.Count == 0)
        {
            return 1;
        }
        return values.Count == 1 && values[0] is { Length: > 0 and <= 6 } text && text.All(char.IsAsciiDigit)
            && int.Parse(text, CultureInfo.InvariantCulture) is var n and > 0 ? n : null;
    }

    /// <summary>What a list or feed says about an issue: the editor's preheader, else the fact, tip or headline.</summary>
    public static string Summary(string? preheader, string extrasJson)
    {
        var extras = JsonSerializer.Deserialize<IssueExtras>(extrasJson, EditionEmailFactory.Json) ?? new IssueExtras();
        var text = new[] { preheader, extras.Fact, extras.Tip, extras.Headline }.FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)) ?? "";
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (line.Length <= MaxSummaryLength)
        {
            return line;
        }
        var cut = line.LastIndexOf(' ', MaxSummaryLength);
        return string.Concat(line.AsSpan(0, cut > 80 ? cut : MaxSummaryLength).TrimEnd(), "…");
    }
}
