using System.Globalization;
using System.Text;
using System.Xml;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Archive;

/// <summary>
/// An edition's Atom 1.0 feed (RFC 4287): its newest twenty archived issues, each identified by its page's
/// address, which never changes. Written with <see cref="XmlWriter"/>, so every value is escaped; characters
/// XML cannot carry at all are left out rather than break the feed.
/// </summary>
public static class ArchiveFeed
{
    public const string ContentType = "application/atom+xml; charset=utf-8";

    private const string Atom = "http://www.w3.org/2005/Atom";

    public static async Task<IResult> WriteAsync(
        string edition, HttpContext context, NewsletterDbContext db, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!editions.Value.TryGet(edition, out var options))
        {
            return ArchivePage.NotFound(newsletter.Value.Name);
        }
        var (issues, _) = await ArchiveListing.PageAsync(db, [edition], 1, ArchiveListing.PageSize, cancellationToken);
        var xml = Write(options, newsletter.Value, issues, time.GetUtcNow().UtcDateTime);
        context.Response.Headers.CacheControl = ArchiveEndpoints.PublicCaching;
        return TypedResults.Bytes(xml, ContentType);
    }

    internal static byte[] Write(EditionOptions edition, NewsletterOptions newsletter, IReadOnlyList<ArchivedIssue> issues, DateTime nowUtc)
    {
        var baseUrl = newsletter.BaseUrl;
        var output = new MemoryStream();
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        using (var w = XmlWriter.Create(output, settings))
        {
            w.WriteStartDocument();
            w.WriteStartElement("feed", Atom);
            w.WriteElementString("id", Atom, baseUrl + IssueAddresses.EditionArchive(edition.Key));
            w.WriteElementString("title", Atom, Clean($"{edition.DisplayName} · {newsletter.Name}"));
            w.WriteElementString("subtitle", Atom, Clean($"Past issues of {edition.DisplayName} from {newsletter.Name}."));
            // An empty feed has no issue to date it by; it says when it was asked for.
            w.WriteElementString("updated", Atom, Timestamp(issues.Count > 0 ? issues.Max(i => i.PublishedAt) : nowUtc));
            Link(w, "self", "application/atom+xml", baseUrl + IssueAddresses.EditionFeed(edition.Key));
            Link(w, "alternate", "text/html", baseUrl + IssueAddresses.EditionArchive(edition.Key));
            w.WriteStartElement("author", Atom);
            w.WriteElementString("name", Atom, Clean(newsletter.Name));
            w.WriteElementString("uri", Atom, baseUrl);
            w.WriteEndElement();
            foreach (var issue in issues)
            {
                var url = baseUrl + IssueAddresses.ArchivedIssue(issue.Edition, issue.ArchiveKey);
                w.WriteStartElement("entry", Atom);
                w.WriteElementString("id", Atom, url);
                w.WriteElementString("title", Atom, Clean(issue.Subject));
                w.WriteElementString("published", Atom, Timestamp(issue.PublishedAt));
                w.WriteElementString("updated", Atom, Timestamp(issue.PublishedAt));
                Link(w, "alternate", "text/html", url);
                if (issue.Summary.Length > 0)
                {
                    w.WriteElementString("summary", Atom, Clean(issue.Summary));
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return output.ToArray();
    }

    private static void Link(XmlWriter w, string rel, string type, string href)
    {
        w.WriteStartElement("link", Atom);
        w.WriteAttributeString("rel", rel);
        w.WriteAttributeString("type", type);
        w.WriteAttributeString("href", href);
        w.WriteEndElement();
    }

    private static string Timestamp(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (i + 1 < text.Length && char.IsSurrogatePair(text[i], text[i + 1]))
            {
                clean.Append(text, i++, 2);
            }
            else if (XmlConvert.IsXmlChar(text[i]))
            {
                clean.Append(text[i]);
            }
        }
        return clean.ToString();
    }
}
