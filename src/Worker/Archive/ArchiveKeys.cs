using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Archive;

/// <summary>
/// An issue's stable address in its edition's archive, <c>{yyyy-MM-dd}-{slug}</c>: the publication's date in the
/// edition's time zone and the subject's slug, with <c>-2</c>, <c>-3</c>… when the edition already has that key.
/// Set once, when the issue is published, and never changed, so links to it keep working.
/// </summary>
public static class ArchiveKeys
{
    public const int MaxSlugLength = 60;

    /// <summary>Lower-case ASCII letters, digits and single dashes; accents folded; "issue" when nothing is left.</summary>
    public static string Slug(string? subject)
    {
        var folded = (subject ?? "").Normalize(NormalizationForm.FormD);
        var slug = new StringBuilder(Math.Min(folded.Length, MaxSlugLength + 8));
        foreach (var c in folded)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }
            var lower = char.ToLowerInvariant(c);
            var spelled = lower switch
            {
                'ß' => "ss", 'æ' => "ae", 'œ' => "oe", 'ø' => "o", 'đ' => "d", 'ł' => "l", 'þ' => "th",
                _ => char.IsAsciiLetterOrDigit(lower) ? lower.ToString() : "-",
            };
            foreach (var s in spelled)
            {
                if (s != '-' || (slug.Length > 0 && slug[^1] != '-'))
                {
                    slug.Append(s);
                }
            }
            if (slug.Length > MaxSlugLength)
            {
                break;
            }
        }
        var text = slug.ToString().Trim('-');
        if (text.Length > MaxSlugLength)
        {
            // Cut at a word's end when there is one not too far back.
            var cut = text.LastIndexOf('-', MaxSlugLength);
            text = text[..(cut > MaxSlugLength / 2 ? cut : MaxSlugLength)].Trim('-');
        }
        return text.Length == 0 ? "issue" : text;
    }

    /// <summary>Whether <paramref name="key"/> has the shape of an archive key (it may still name no issue).</summary>
    public static bool LooksLikeKey(string? key) =>
        key is { Length: > 11 and <= Issue.MaxArchiveKeyLength } && DateOf(key) is not null && key[10] == '-'
        && key.AsSpan(11).IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789-") < 0;

    /// <summary>The publication date the key starts with; null when it does not start with a real date.</summary>
    public static DateOnly? DateOf(string key) =>
        key.Length >= 10 && DateOnly.TryParseExact(key.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : null;

    /// <summary>Gives the issue its key unless it has one. Runs inside the publisher's transaction, so two
    /// publications of one edition cannot both take a key; the (edition, key) unique index backs that up.</summary>
    public static async Task<string?> AssignAsync(
        NewsletterDbContext db, int issueId, string edition, string subject, DateOnly date, CancellationToken cancellationToken)
    {
        var stem = $"{date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{Slug(subject)}";
        var taken = (await db.Issues
            .Where(i => i.Edition == edition && i.ArchiveKey != null && i.ArchiveKey.StartsWith(stem))
            .Select(i => i.ArchiveKey!)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var key = stem;
        for (var n = 2; taken.Contains(key); n++)
        {
            key = string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}");
        }
        var set = await db.Issues.Where(i => i.Id == issueId && i.ArchiveKey == null)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.ArchiveKey, key), cancellationToken);
        return set == 1 ? key : null;
    }

    /// <summary>
    /// Issues published before the archive existed get their key now, dated by their publication's slot. Idempotent:
    /// only issues without a key are touched, so it runs at every start and usually finds nothing.
    /// </summary>
    public static async Task<int> BackfillAsync(NewsletterDbContext db, EditionsOptions editions, CancellationToken cancellationToken)
    {
        var missing = await db.Issues.AsNoTracking()
            .Where(i => i.Status == IssueStatus.Published && i.ArchiveKey == null)
            .OrderBy(i => i.PublishedAt).ThenBy(i => i.Id)
            .Select(i => new
            {
                i.Id, i.Edition, i.Subject, i.PublishedAt, i.QueuedAt,
                Slot = db.Publications.Where(p => p.IssueId == i.Id).OrderBy(p => p.SlotUtc).Select(p => (DateTime?)p.SlotUtc).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        var assigned = 0;
        foreach (var issue in missing)
        {
            if (!editions.TryGet(issue.Edition, out var edition))
            {
                continue; // An edition no longer configured has no archive to be listed in.
            }
            var when = issue.Slot ?? issue.PublishedAt ?? issue.QueuedAt;
            var date = new EditionSchedule(edition).LocalDate(new DateTimeOffset(DateTime.SpecifyKind(when, DateTimeKind.Utc)));
            if (await AssignAsync(db, issue.Id, issue.Edition, issue.Subject, date, cancellationToken) is not null)
            {
                assigned++;
            }
        }
        return assigned;
    }
}
