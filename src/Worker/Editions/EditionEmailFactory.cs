using System.Text.Json;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Models;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Editions;

/// <summary>Turns a stored issue into its edition's typed email model.</summary>
public sealed class EditionEmailFactory(IOptions<NewsletterOptions> newsletter, IOptions<EditionsOptions> editions)
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
            JsonSerializer.Deserialize<IssueExtras>(issue.ExtrasJson, Json) ?? new IssueExtras(), issueDate);

    /// <summary>An issue not stored yet (a file being checked or previewed), from its parts.</summary>
    public EditionEmail Create(
        string editionKey, string subject, string? preheader, string body, IssueExtras x, DateOnly issueDate)
    {
        var edition = editions.Value.Get(editionKey);
        var brand = Brand;
        return edition.Format switch
        {
            EditionFormat.Fact => new FactOfTheWeekEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand,
                Headline = x.Headline, Fact = x.Fact, Theme = x.Theme,
                Sources = x.Sources.Select(s => new SourceLink(s.Title, s.Url)).ToList(),
            },
            EditionFormat.Tip => new TipOfTheWeekEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand,
                Headline = x.Headline, Tip = x.Tip, Examples = x.Examples,
            },
            EditionFormat.Spotlight => new SpotlightEmail
            {
                EditionKey = editionKey, EditionName = edition.DisplayName, Subject = subject, Preheader = preheader,
                BodyMarkdown = body, IssueDate = issueDate, Brand = brand,
                Headline = x.Headline, EditionLabel = x.EditionLabel, FeaturedPerson = x.FeaturedPerson, AuthorsNote = x.AuthorsNote,
                ImageUrl = x.Image, ImageAlt = x.ImageAlt,
            },
            _ => throw new InvalidOperationException($"edition '{editionKey}' has no template"),
        };
    }
}
