using System.Text.Json;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Templates.Models;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Editions;

/// <summary>Turns a stored issue into its edition's typed email model. Without a <paramref name="signer"/>,
/// an issue kept out of the archive links to its edition's archive page instead of its private web view.</summary>
public sealed class EditionEmailFactory(
    IOptions<NewsletterOptions> newsletter, IOptions<EditionsOptions> editions, LinkTokenSigner? signer = null)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public NewsletterBrand Brand
    {
        get
        {
            var o = newsletter.Value;
            return new NewsletterBrand
            {
                Name = o.Name,
                PublicBaseUrl = o.BaseUrl,
                SignOff = o.SignOff,
                Disclaimer = o.Disclaimer,
                CrisisResources = o.CrisisResources,
                PostalAddress = o.PostalAddress,
                Language = o.Language,
            };
        }
    }

    public EditionEmail Create(Issue issue, DateOnly issueDate) =>
        Create(issue.Edition, issue.Subject, issue.Preheader, issue.BodyMarkdown,
            JsonSerializer.Deserialize<IssueExtras>(issue.ExtrasJson, Json) ?? new IssueExtras(), issueDate, WebUrl(issue));

    /// <summary>
    /// Where the issue is read in a browser: its archive page once published; its private, signed web view when
    /// it is kept out of the archive (the same link for every reader; it opens once the issue is published); and,
    /// for an issue not published yet (a preview, a test email), its edition's archive page as a stand-in.
    /// </summary>
    public string WebUrl(Issue issue)
    {
        var baseUrl = newsletter.Value.BaseUrl;
        if (!issue.InArchive && signer is not null && issue.Id > 0)
        {
            return baseUrl + IssueAddresses.WebView(WebViewToken(signer, issue));
        }
        return issue is { InArchive: true, ArchiveKey: { } key }
            ? baseUrl + IssueAddresses.ArchivedIssue(issue.Edition, key)
            : baseUrl + IssueAddresses.EditionArchive(issue.Edition);
    }

    /// <summary>The token of an issue's private web view; checked with <see cref="TokenPurpose.WebView"/>.</summary>
    public static string WebViewToken(LinkTokenSigner signer, Issue issue) =>
        signer.Sign(new LinkToken(TokenPurpose.WebView, issue.Id, issue.Edition));

    /// <summary>An issue not stored yet (a file being checked or previewed), from its parts.</summary>
    public EditionEmail Create(
        string editionKey, string subject, string? preheader, string body, IssueExtras x, DateOnly issueDate, string? webUrl = null)
    {
        var edition = editions.Value.Get(editionKey);
        var brand = Brand;
        webUrl ??= newsletter.Value.BaseUrl + IssueAddresses.EditionArchive(editionKey);
        return edition.Format switch
        {
            EditionFormat.Fact => new FactOfTheWeekEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand, WebUrl = webUrl,
                Headline = x.Headline, Fact = x.Fact, Theme = x.Theme,
                Sources = x.Sources.Select(s => new SourceLink(s.Title, s.Url)).ToList(),
            },
            EditionFormat.Tip => new TipOfTheWeekEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand, WebUrl = webUrl,
                Headline = x.Headline, Tip = x.Tip, Examples = x.Examples,
            },
            EditionFormat.Spotlight => new SpotlightEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand, WebUrl = webUrl,
                Headline = x.Headline, EditionLabel = x.EditionLabel, FeaturedPerson = x.FeaturedPerson, AuthorsNote = x.AuthorsNote,
                ImageUrl = x.Image, ImageAlt = x.ImageAlt,
            },
            _ => throw new InvalidOperationException($"edition '{editionKey}' has no template"),
        };
    }
}
