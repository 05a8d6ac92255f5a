using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Lists;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Links;

namespace Newsletter.Tests.Http;

/// <summary>
/// Readers, issues and their publications written straight to a real database, with the real web app
/// on top: for the unsubscribe links that name a publication and the issue results that count them.
/// </summary>
internal sealed class IssueResultsWorld : IAsyncDisposable
{
    private IssueResultsWorld(TestApp app, TestWebApp web)
    {
        App = app;
        Web = web;
        Client = web.CreateNoRedirectClient();
        Links = web.Services.GetRequiredService<LinkBuilder>();
    }

    public TestApp App { get; }

    public TestWebApp Web { get; }

    public HttpClient Client { get; }

    public LinkBuilder Links { get; }

    public static async Task<IssueResultsWorld> CreateAsync(TestApp? app = null)
    {
        app ??= TestApp.Create();
        await app.CreateDatabaseAsync();
        return new IssueResultsWorld(app, app.CreateWebApp());
    }

    public async Task<int> ReaderAsync(string email, params string[] editions)
    {
        await using var scope = Web.Services.CreateAsyncScope();
        var added = await scope.ServiceProvider.GetRequiredService<SubscriberList>()
            .AddAsync(email, null, editions.Length == 0 ? ["weekly-tip", "weekly-fact"] : editions, confirmed: true);
        Assert.True(added.Succeeded, added.Error);
        return added.Subscriber!.Id;
    }

    /// <summary>A published issue and its completed publication, with one delivery per given reader.</summary>
    public async Task<(int IssueId, int PublicationId)> PublicationAsync(string edition, params (int Subscriber, DeliveryStatus Status)[] deliveries)
    {
        await using var db = App.OpenDb();
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var issue = new Issue
        {
            Edition = edition, Subject = $"An issue of {edition}", BodyMarkdown = "Hello.", Status = IssueStatus.Published,
            QueuedAt = now, PublishedAt = now,
        };
        db.Issues.Add(issue);
        await db.SaveChangesAsync();
        var publication = new Publication
        {
            Edition = edition, SlotUtc = now.AddMinutes(-issue.Id), Kind = PublicationKind.SendNow, Status = PublicationStatus.Completed,
            IssueId = issue.Id, CreatedAt = now, CompletedAt = now, RecipientCount = deliveries.Length,
        };
        db.Publications.Add(publication);
        await db.SaveChangesAsync();
        db.Deliveries.AddRange(deliveries.Select(d => new DeliveryRecord
        {
            PublicationId = publication.Id, SubscriberId = d.Subscriber, Status = d.Status, Attempts = 1,
            NextAttemptAt = now, FirstAttemptAt = now, CompletedAt = now,
        }));
        await db.SaveChangesAsync();
        return (issue.Id, publication.Id);
    }

    /// <summary>The link's path and query, as the email carries it (without the public address).</summary>
    public string LinkPath(int subscriber, string edition, int? publicationId)
    {
        using var db = App.OpenDb();
        return Links.Unsubscribe(db.Subscribers.Single(s => s.Id == subscriber).LinkKey, edition, publicationId)[TestApp.PublicBaseUrl.Length..];
    }

    public async Task<HttpResponseMessage> OneClickAsync(string path)
    {
        var response = await Client.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    /// <summary>Each delivery's UnsubscribedAt, by (publication, subscriber).</summary>
    public async Task<Dictionary<(int Publication, int Subscriber), DateTime?>> MarksAsync()
    {
        await using var db = App.OpenDb();
        return await db.Deliveries.AsNoTracking().ToDictionaryAsync(d => (d.PublicationId, d.SubscriberId), d => d.UnsubscribedAt);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Web.DisposeAsync();
        await App.DisposeAsync();
    }
}
