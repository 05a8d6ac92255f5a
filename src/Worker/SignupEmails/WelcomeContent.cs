using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Templates.Models;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Links;

namespace Newsletter.Worker.SignupEmails;

/// <summary>
/// What a reader's welcome says, as it is when it is sent: each chosen edition with when it arrives and its
/// latest issue in the public archive (published, in the archive, with its address), and the reader's links.
/// </summary>
public sealed class WelcomeContent(
    LinkBuilder links, IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, TimeProvider time)
{
    public async Task<WelcomeEmail> BuildAsync(ClaimedEmail email, NewsletterDbContext db, NewsletterBrand brand, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var chosen = new List<(string Key, EditionOptions Edition)>();
        foreach (var key in email.Editions)
        {
            if (editions.Value.TryGet(key, out var edition))
            {
                chosen.Add((key, edition));
            }
        }
        var items = new List<WelcomeEdition>();
        foreach (var (key, edition) in chosen)
        {
            var latest = await db.Issues.AsNoTracking()
                .Where(i => i.Edition == key && i.Status == IssueStatus.Published && i.InArchive && i.ArchiveKey != null)
                .OrderByDescending(i => i.PublishedAt).ThenByDescending(i => i.Id)
                .Select(i => new { i.Subject, i.ArchiveKey })
                .FirstOrDefaultAsync(cancellationToken);
            items.Add(new WelcomeEdition(edition.DisplayName, EditionCadence.Describe(new EditionSchedule(edition), now),
                latest is null ? null : new WelcomeIssueLink(latest.Subject, ArchiveUrl(key, latest.ArchiveKey!))));
        }
        var today = chosen.Count > 0 ? new EditionSchedule(chosen[0].Edition).LocalDate(now) : DateOnly.FromDateTime(now.UtcDateTime);
        return new WelcomeEmail
        {
            Brand = brand,
            Name = email.Name,
            Editions = items,
            PreferencesUrl = links.Preferences(email.LinkKey),
            // An edition's unsubscribe page also offers to leave every edition.
            UnsubscribeUrl = links.Unsubscribe(email.LinkKey, chosen.Count > 0 ? chosen[0].Key : editions.Value.Keys[0]),
            Date = today,
        };
    }

    /// <summary>An issue's page in its edition's public archive.</summary>
    public string ArchiveUrl(string edition, string archiveKey) =>
        $"{newsletter.Value.BaseUrl}/archive/{Uri.EscapeDataString(edition)}/{Uri.EscapeDataString(archiveKey)}";
}
