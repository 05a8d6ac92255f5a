using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Archive;

/// <summary>
/// The public archive: <c>/archive</c> and <c>/archive/{edition}</c> list past issues newest first, twenty a page
/// (<c>?page=N</c>); <c>/archive/{edition}/{date}-{slug}</c> is one issue, rendered by the email templates with a
/// sign-up call to action where a reader's own links would be; <c>/archive/{edition}/feed.xml</c> is the edition's
/// Atom feed; <c>/view/{token}</c> is the private web view of an issue kept out of the archive. Anything that names
/// no issue, edition or page is a 404 page.
/// </summary>
public static class ArchiveEndpoints
{
    /// <summary>Archive pages may be kept by browsers and proxies for a while: they change only when an issue is published.</summary>
    public const string PublicCaching = "public, max-age=300";

    private static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>The routes, as a group the caller can give its conventions (rate limits) to.</summary>
    public static RouteGroupBuilder MapArchive(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("");
        group.MapMethods(IssueAddresses.Archive, GetOrHead, ListAll);
        group.MapMethods(IssueAddresses.Archive + "/{edition}", GetOrHead, ListEdition);
        group.MapMethods(IssueAddresses.Archive + "/{edition}/feed.xml", GetOrHead, ArchiveFeed.WriteAsync);
        group.MapMethods(IssueAddresses.Archive + "/{edition}/{key}", GetOrHead, ShowIssue);
        group.MapMethods("/view/{token}", GetOrHead, ShowPrivate);
        return group;
    }

    private static Task<IResult> ListAll(
        HttpContext context, NewsletterDbContext db, IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter,
        CancellationToken cancellationToken) =>
        ListAsync(context, db, editions.Value, newsletter.Value, null, cancellationToken);

    private static Task<IResult> ListEdition(
        string edition, HttpContext context, NewsletterDbContext db, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken) =>
        editions.Value.TryGet(edition, out var options)
            ? ListAsync(context, db, editions.Value, newsletter.Value, options, cancellationToken)
            : Task.FromResult(ArchivePage.NotFound(newsletter.Value.Name));

    private static async Task<IResult> ListAsync(
        HttpContext context, NewsletterDbContext db, EditionsOptions editions, NewsletterOptions newsletter, EditionOptions? edition,
        CancellationToken cancellationToken)
    {
        if (ArchiveListing.PageNumber(context.Request) is not { } page)
        {
            return ArchivePage.NotFound(newsletter.Name);
        }
        string[] keys = edition is null ? [.. editions.Keys] : [edition.Key];
        var (issues, pageCount) = await ArchiveListing.PageAsync(db, keys, page, ArchiveListing.PageSize, cancellationToken);
        if (page > pageCount)
        {
            return ArchivePage.NotFound(newsletter.Name);
        }

        var path = edition is null ? IssueAddresses.Archive : IssueAddresses.EditionArchive(edition.Key);
        string PageLink(int n) => n == 1 ? path : string.Create(CultureInfo.InvariantCulture, $"{path}?page={n}");
        var heading = edition is null ? "Past issues" : edition.DisplayName;
        var title = page == 1 ? heading : string.Create(CultureInfo.InvariantCulture, $"{heading}, page {page} of {pageCount}");
        var description = edition is null
            ? $"Every past issue of {newsletter.Name}'s editions, newest first."
            : $"Past issues of {edition.DisplayName} from {newsletter.Name}, newest first.";
        var head = new PageHead(title, description, newsletter.BaseUrl + PageLink(page),
            edition is null ? null : newsletter.BaseUrl + IssueAddresses.EditionFeed(edition.Key),
            edition is null ? null : $"{edition.DisplayName} · {newsletter.Name}");

        var culture = CultureFor(newsletter.Language);
        var items = string.Concat(issues.Select(i => $"""
            <li>
              <p class="meta"><time datetime="{i.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}">{ArchivePage.Encode(i.Date.ToString("D", culture))}</time>{(edition is null ? " · " + ArchivePage.Encode(editions.Get(i.Edition).DisplayName) : "")}</p>
              <h2><a href="{ArchivePage.Encode(IssueAddresses.ArchivedIssue(i.Edition, i.ArchiveKey))}">{ArchivePage.Encode(i.Subject)}</a></h2>
              {(i.Summary.Length > 0 ? $"<p>{ArchivePage.Encode(i.Summary)}</p>" : "")}
            </li>
            """));
        var list = issues.Count == 0
            ? "<p>No issues here yet. The first one is on its way.</p>"
            : $"<ol class=\"issues\">{items}</ol>";
        var pager = pageCount == 1 ? "" : $"""
            <nav class="pages" aria-label="More issues">
              {(page > 1 ? $"<a rel=\"prev\" href=\"{ArchivePage.Encode(PageLink(page - 1))}\">Newer issues</a>" : "<span></span>")}
              {(page < pageCount ? $"<a rel=\"next\" href=\"{ArchivePage.Encode(PageLink(page + 1))}\">Older issues</a>" : "")}
            </nav>
            """;
        var editionLinks = edition is null
            ? "<p class=\"note\">By edition: " + string.Join(" · ", editions.Keys.Select(k =>
                $"<a href=\"{ArchivePage.Encode(IssueAddresses.EditionArchive(k))}\">{ArchivePage.Encode(editions.Get(k).DisplayName)}</a>")) + "</p>"
            : $"<p class=\"note\"><a href=\"{ArchivePage.Encode(IssueAddresses.EditionFeed(edition.Key))}\">Follow this edition with a feed reader (Atom)</a> · <a href=\"{IssueAddresses.Archive}\">All editions</a></p>";
        var body = $"""
            <h1>{ArchivePage.Encode(heading)}</h1>
            <p class="cta">Get new issues in your inbox: <a href="/subscribe">subscribe to {ArchivePage.Encode(edition?.DisplayName ?? newsletter.Name)}</a>. It's free, and you can leave at any time.</p>
            {editionLinks}
            {list}
            {pager}
            <p class="note">{ArchivePage.Encode(newsletter.Disclaimer)} {ArchivePage.Encode(newsletter.CrisisResources)}</p>
            """;
        context.Response.Headers.CacheControl = PublicCaching;
        return ArchivePage.Html(ArchivePage.Render(head, title, body, newsletter.Name));
    }

    private static async Task<IResult> ShowIssue(
        string edition, string key, HttpContext context, NewsletterDbContext db, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, EditionEmailFactory factory, IEmailRenderer renderer, CancellationToken cancellationToken)
    {
        if (!editions.Value.TryGet(edition, out _) || !ArchiveKeys.LooksLikeKey(key))
        {
            return ArchivePage.NotFound(newsletter.Value.Name);
        }
        var issue = await db.Issues.AsNoTracking().FirstOrDefaultAsync(
            i => i.Edition == edition && i.ArchiveKey == key && i.Status == IssueStatus.Published && i.InArchive, cancellationToken);
        if (issue is null)
        {
            return ArchivePage.NotFound(newsletter.Value.Name);
        }
        var path = IssueAddresses.ArchivedIssue(edition, key);
        var html = await renderer.RenderWebPageAsync(factory.Create(issue, ArchiveKeys.DateOf(key)!.Value), new WebPageLinks
        {
            CanonicalUrl = newsletter.Value.BaseUrl + path,
            SubscribeUrl = "/subscribe",
            ArchiveUrl = IssueAddresses.EditionArchive(edition),
        }, cancellationToken);
        context.Response.Headers.CacheControl = PublicCaching;
        return ArchivePage.Html(html);
    }

    /// <summary>An issue kept out of the archive, for whoever has its signed link (every reader of it has the same
    /// one): no call to action, and a request not to be indexed. A forged or altered link finds nothing.</summary>
    private static async Task<IResult> ShowPrivate(
        string token, HttpContext context, NewsletterDbContext db, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, LinkTokenSigner signer, EditionEmailFactory factory, IEmailRenderer renderer,
        CancellationToken cancellationToken)
    {
        if (!signer.TryVerify(token, TokenPurpose.WebView, out var verified) || !editions.Value.TryGet(verified.Edition, out var edition))
        {
            return ArchivePage.NotFound(newsletter.Value.Name);
        }
        var issue = await db.Issues.AsNoTracking().FirstOrDefaultAsync(
            i => i.Id == verified.Id && i.Edition == verified.Edition && i.Status == IssueStatus.Published, cancellationToken);
        if (issue is null)
        {
            return ArchivePage.NotFound(newsletter.Value.Name);
        }
        var date = (issue.ArchiveKey is { } key ? ArchiveKeys.DateOf(key) : null)
            ?? new EditionSchedule(edition).LocalDate(new DateTimeOffset(DateTime.SpecifyKind(issue.PublishedAt ?? issue.QueuedAt, DateTimeKind.Utc)));
        var html = await renderer.RenderWebPageAsync(factory.Create(issue, date), new WebPageLinks(), cancellationToken);
        context.Response.Headers.CacheControl = "private, max-age=300";
        context.Response.Headers["X-Robots-Tag"] = "noindex";
        return ArchivePage.Html(html);
    }

    internal static CultureInfo CultureFor(string language)
    {
        try
        {
            return CultureInfo.GetCultureInfo(language);
        }
        catch (CultureNotFoundException)
        {
            return CultureInfo.InvariantCulture;
        }
    }
}
