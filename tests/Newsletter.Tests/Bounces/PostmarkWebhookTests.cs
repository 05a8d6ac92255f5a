using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Bounces;

/// <summary>Postmark's bounce and spam-complaint webhooks at /webhooks/postmark, over real HTTP, authenticated by
/// basic authentication whose password is Bounces:Postmark:Secret.</summary>
public sealed class PostmarkWebhookTests : IAsyncLifetime
{
    private const string Secret = "a webhook secret only the tests know";
    private const string Reader = "reader@example.org";

    private static long _nextId;

    private TestApp _app = null!;
    private TestWebApp _web = null!;
    private HttpClient _client = null!;
    private int _subscriber;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create().Set("Bounces:Postmark:Secret", Secret);
        await using (var host = await _app.StartHostAsync())
        {
            var added = await host.InScopeAsync<SubscriberList, AddSubscriberResult>(
                l => l.AddAsync(Reader, "Robin", ["weekly-tip", "weekly-fact"], confirmed: true));
            Assert.True(added.Succeeded, added.Error);
            _subscriber = added.Subscriber!.Id;
        }
        _web = _app.CreateWebApp();
        _client = _web.CreateNoRedirectClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _web.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_hard_bounce_with_the_secret_suppresses_the_reader()
    {
        using var response = await PostAsync(Record("Bounce", "HardBounce", 1, Reader));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await IsSuppressedAsync());
        var bounce = Assert.Single(await BouncesAsync());
        Assert.Equal((BounceSource.Postmark, BounceKind.Hard, BounceOutcome.Suppressed, _subscriber),
            (bounce.Source, bounce.Kind, bounce.Outcome, bounce.SubscriberId));
    }

    [Fact]
    public async Task A_spam_complaint_suppresses_the_reader_and_ends_every_subscription()
    {
        using var response = await PostAsync(Record("SpamComplaint", "SpamComplaint", 512, Reader));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await IsSuppressedAsync());
        await using var db = _app.OpenDb();
        var subscriptions = await db.Subscriptions.Where(s => s.SubscriberId == _subscriber).ToListAsync();
        Assert.Equal(2, subscriptions.Count);
        Assert.All(subscriptions, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s.Status));
    }

    [Fact]
    public async Task The_same_record_twice_counts_once()
    {
        var record = Record("Bounce", "SoftBounce", 4096, Reader);

        using var first = await PostAsync(record);
        using var second = await PostAsync(record);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(BounceOutcome.Counted, Assert.Single(await BouncesAsync()).Outcome);
        Assert.False(await IsSuppressedAsync());
    }

    [Fact]
    public async Task An_auto_responder_is_recorded_and_changes_nobody()
    {
        using var response = await PostAsync(Record("Bounce", "AutoResponder", 8, Reader));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(await IsSuppressedAsync());
        Assert.Equal(BounceOutcome.NothingToDo, Assert.Single(await BouncesAsync()).Outcome);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("a wrong secret, though a long one")]
    [InlineData("")]
    public async Task Without_the_secret_it_is_401_and_nothing_changes(string? password)
    {
        using var response = await PostAsync(Record("Bounce", "HardBounce", 1, Reader), password);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.False(await IsSuppressedAsync());
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task Malformed_JSON_is_a_bad_request()
    {
        using var response = await PostAsync("{\"RecordType\": \"Bounce\", \"ID\": ");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_unread()
    {
        using var response = await PostAsync(new string(' ', 400 * 1024) + Record("Bounce", "HardBounce", 1, Reader));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.False(await IsSuppressedAsync());
    }

    [Fact]
    public async Task A_bounce_for_an_address_not_on_the_list_changes_nobody()
    {
        using var response = await PostAsync(Record("Bounce", "HardBounce", 1, "stranger@example.net"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bounce = Assert.Single(await BouncesAsync());
        Assert.Equal((BounceOutcome.NotOnList, (int?)null), (bounce.Outcome, bounce.SubscriberId));
        Assert.False(await IsSuppressedAsync());
        await using var db = _app.OpenDb();
        Assert.Equal(0, await db.Suppressions.CountAsync());
    }

    [Fact]
    public async Task Another_record_type_is_answered_and_records_nothing()
    {
        using var response = await PostAsync(JsonSerializer.Serialize(new { RecordType = "Delivery", MessageID = "m-1", Recipient = Reader }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task Without_a_secret_set_the_webhook_is_not_there()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var response = await client.PostAsync("/webhooks/postmark", new StringContent(Record("Bounce", "HardBounce", 1, Reader)));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>A record as Postmark posts it (its ID is a 64-bit number).</summary>
    private static string Record(string recordType, string type, int typeCode, string email) => JsonSerializer.Serialize(new
    {
        RecordType = recordType,
        MessageStream = "outbound",
        ID = 4_323_372_036_854_775_000L + Interlocked.Increment(ref _nextId),
        Type = type,
        TypeCode = typeCode,
        Name = type,
        MessageID = Guid.NewGuid().ToString(),
        Description = "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        Details = "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        Email = email,
        From = "news@example.org",
        BouncedAt = "2026-01-05T16:33:54.9070259Z",
        Inactive = true,
        CanActivate = true,
    });

    private async Task<HttpResponseMessage> PostAsync(string body, string? password = Secret)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/postmark") { Content = content };
        if (password is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"postmark:{password}")));
        }
        return await _client.SendAsync(request);
    }

    private async Task<bool> IsSuppressedAsync() => await BounceRecords.SuppressionAsync(_app, Reader) is not null;

    private Task<List<Bounce>> BouncesAsync() => BounceRecords.AllAsync(_app);
}
