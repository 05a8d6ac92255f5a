using System.Globalization;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Export;

/// <summary>
/// Writes the list as CSV with the import's columns first (<c>email,name,editions,consented_at,source</c>)
/// and then <c>status,created_at,confirmed_at</c>, so an export can be imported elsewhere. Only
/// confirmed readers carry <c>consented_at</c>: a pending sign-up re-imports as pending, with the
/// editions it asked for. Names a
/// spreadsheet would run as formulas are written with a leading apostrophe.
/// </summary>
public sealed class SubscriberExporter(DbContext db)
{
    private const int PageSize = 5_000;

    public static readonly string[] Columns = ["email", "name", "editions", "consented_at", "source", "status", "created_at", "confirmed_at"];

    public async Task<int> ExportAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        await using var csv = CsvWriter.Create(output, new CsvWriterOptions { Injection = CsvInjection.Escape, NewLine = "\n" }, leaveOpen: true);
        csv.WriteHeader(Columns);
        var count = 0;
        var after = 0;
        while (true)
        {
            // Keyset pages keep memory flat whatever the list's size.
            var page = await db.Set<Subscriber>().AsNoTracking()
                .Where(s => s.Id > after).OrderBy(s => s.Id).Take(PageSize)
                .Select(s => new
                {
                    s.Id,
                    s.Email,
                    s.Name,
                    s.Status,
                    s.CreatedAt,
                    s.ConfirmedAt,
                    Subscriptions = s.Subscriptions.Select(x => new { x.Edition, x.Status }).ToList(),
                    FirstConsent = s.ConsentRecords.OrderBy(c => c.ConsentedAt).Select(c => (DateTime?)c.ConsentedAt).FirstOrDefault(),
                    Source = s.ConsentRecords.OrderByDescending(c => c.ConsentedAt).Select(c => c.Source).FirstOrDefault(),
                })
                .AsSplitQuery()
                .ToListAsync(cancellationToken);
            foreach (var s in page)
            {
                var confirmed = s.Status == SubscriberStatus.Confirmed;
                // A confirmed reader's editions are those they get; a pending one's, those they asked for.
                var editions = s.Subscriptions
                    .Where(x => x.Status == SubscriptionStatus.Active || (!confirmed && x.Status == SubscriptionStatus.Pending))
                    .Select(x => x.Edition).Order(StringComparer.Ordinal);
                var source = s.Source is { } src && src.StartsWith("import: ", StringComparison.Ordinal) ? src["import: ".Length..] : s.Source;
                csv.WriteRecord(
                [
                    s.Email,
                    s.Name ?? "",
                    string.Join(';', editions),
                    confirmed ? Iso(s.FirstConsent ?? s.ConfirmedAt) : "",
                    source ?? "",
                    confirmed ? "confirmed" : "pending",
                    Iso(s.CreatedAt),
                    Iso(s.ConfirmedAt),
                ]);
                count++;
            }
            if (page.Count < PageSize)
            {
                break;
            }
            after = page[^1].Id;
        }
        await csv.FlushAsync(cancellationToken);
        return count;
    }

    private static string Iso(DateTime? utc) => utc is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";
}
