using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Bounces;

/// <summary>
/// Amazon SES notifications through SNS at /webhooks/ses, over real HTTP with real signatures: the
/// signing certificate is fetched over https from a loopback server, and only a message signed by it,
/// for our topic, recent, acts on the list.
/// </summary>
public sealed class SesWebhookTests : IAsyncLifetime
{
    private const string Topic = "arn:aws:sns:eu-west-1:123456789012:newsletter-bounces";
    private const string Reader = "reader@example.org";

    private TestSnsServer _sns = null!;
    private TestApp _app = null!;
    private WebApplicationFactory<Program> _web = null!;
    private HttpClient _client = null!;
    private int _subscriber;

    public async Task InitializeAsync()
    {
        _sns = await TestSnsServer.StartAsync();
        _app = TestApp.Create()
            .Set("Bounces:Ses:Enabled", "true")
            .Set("Bounces:Ses:TopicArns:0", Topic)
            .Set("Bounces:Ses:CertificateHosts:0", "127.0.0.1")
            .Set("Messages:Verp:Domain", "bounces.example.org");
        await using (var host = await _app.StartHostAsync())
        {
            var added = await host.InScopeAsync<SubscriberList, AddSubscriberResult>(
                l => l.AddAsync(Reader, "Robin", ["weekly-tip", "weekly-fact"], confirmed: true));
            Assert.True(added.Succeeded, added.Error);
            _subscriber = added.Subscriber!.Id;
        }
        _web = _app.CreateWebApp().WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.AddHttpClient(SnsVerifier.HttpClientName).ConfigurePrimaryHttpMessageHandler(_sns.CreateTrustingHandler)));
        _client = _web.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _web.DisposeAsync();
        await _app.DisposeAsync();
        await _sns.DisposeAsync();
    }

    [Fact]
    public async Task A_signed_hard_bounce_suppresses_the_reader_and_is_recorded()
    {
        using var response = await PostAsync(Notification(Bounce("Permanent", "General", Reader, "5.1.1"), version: 1, subject: "Amazon SES Email Event Notification"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await IsSuppressedAsync());
        var bounce = Assert.Single(await BouncesAsync());
        Assert.Equal((BounceSource.AmazonSes, BounceKind.Hard, BounceOutcome.Suppressed, _subscriber, "5.1.1"),
            (bounce.Source, bounce.Kind, bounce.Outcome, bounce.SubscriberId, bounce.Status));
        Assert.Contains("refused the address for good", bounce.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_notification_twice_counts_once_and_the_certificate_is_fetched_once()
    {
        var envelope = Notification(Bounce("Transient", "MailboxFull", Reader, null));

        using var first = await PostAsync(envelope);
        using var second = await PostAsync(envelope);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Contains("Duplicate", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Single(await BouncesAsync());
        Assert.Single(_sns.Requests, r => r == "/cert.pem");
    }

    [Fact]
    public async Task A_complaint_suppresses_the_reader_and_ends_every_subscription()
    {
        using var response = await PostAsync(Notification(Complaint(Reader)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await IsSuppressedAsync());
        await using var db = _app.OpenDb();
        var subscriptions = await db.Subscriptions.Where(s => s.SubscriberId == _subscriber).ToListAsync();
        Assert.Equal(2, subscriptions.Count);
        Assert.All(subscriptions, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s.Status));
        Assert.Equal(BounceOutcome.Unsubscribed, Assert.Single(await BouncesAsync()).Outcome);
    }

    [Fact]
    public async Task A_transient_bounce_is_counted_and_does_not_suppress()
    {
        using var response = await PostAsync(Notification(Bounce("Transient", "MailboxFull", Reader, null), version: 1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(await IsSuppressedAsync());
        var bounce = Assert.Single(await BouncesAsync());
        Assert.Equal((BounceKind.Soft, BounceOutcome.Counted), (bounce.Kind, bounce.Outcome));
    }

    [Fact]
    public async Task A_bounce_sent_from_a_VERP_address_names_the_reader_and_the_publication()
    {
        string verp;
        await using (var host = await _app.StartHostAsync())
        {
            verp = host.Services.GetRequiredService<VerpAddresses>().For(7, _subscriber)!.Address;
        }
        // The VERP address names the reader and the publication; the reported recipient only agrees with it.
        using var response = await PostAsync(Notification(Bounce("Permanent", "NoEmail", Reader.ToUpperInvariant(), null, source: verp)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bounce = Assert.Single(await BouncesAsync());
        Assert.Equal((BounceOutcome.Suppressed, 7, _subscriber), (bounce.Outcome, bounce.PublicationId, bounce.SubscriberId));
    }

    [Fact]
    public async Task A_tampered_message_is_refused_and_changes_nothing()
    {
        var signed = Notification(Bounce("Transient", "General", "someone-else@example.org", null));
        var tampered = signed.Replace("someone-else@example.org", Reader, StringComparison.Ordinal)
            .Replace("Transient", "Permanent", StringComparison.Ordinal);

        using var response = await PostAsync(tampered);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("signature does not match", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await IsSuppressedAsync());
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task A_certificate_on_a_host_not_allowed_is_refused_without_being_fetched()
    {
        var elsewhere = $"https://localhost:{_sns.Port}/cert.pem";

        using var response = await PostAsync(Notification(Bounce("Permanent", "General", Reader, "5.1.1"), certificateUrl: elsewhere));
        using var plain = await PostAsync(Notification(Bounce("Permanent", "General", Reader, "5.1.1"),
            certificateUrl: $"http://127.0.0.1:{_sns.Port}/cert.pem"));

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (response.StatusCode, plain.StatusCode));
        Assert.Empty(_sns.Requests);
        Assert.False(await IsSuppressedAsync());
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task A_message_from_another_topic_is_refused_though_SNS_signed_it()
    {
        using var response = await PostAsync(Notification(Bounce("Permanent", "General", Reader, "5.1.1"),
            topic: "arn:aws:sns:eu-west-1:999999999999:someone-elses-topic"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(await IsSuppressedAsync());
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task An_old_message_is_refused_as_a_replay()
    {
        var published = TimeProvider.System.GetUtcNow().AddHours(-2);

        using var response = await PostAsync(Notification(Bounce("Permanent", "General", Reader, "5.1.1"), at: published));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task A_subscription_confirmation_is_confirmed_by_fetching_its_SubscribeURL()
    {
        var subscribeUrl = $"{_sns.BaseUrl}/confirm?Action=ConfirmSubscription&TopicArn={Uri.EscapeDataString(Topic)}&Token=abc123";
        var envelope = _sns.Sign(new Dictionary<string, string?>
        {
            ["Type"] = "SubscriptionConfirmation",
            ["MessageId"] = Guid.NewGuid().ToString(),
            ["Token"] = "abc123",
            ["TopicArn"] = Topic,
            ["Message"] = $"You have chosen to subscribe to the topic {Topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            ["SubscribeURL"] = subscribeUrl,
            ["Timestamp"] = Timestamp(TimeProvider.System.GetUtcNow()),
        });

        using var response = await PostAsync(envelope);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(_sns.Requests, r => r.StartsWith("/confirm?Action=ConfirmSubscription", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_delivery_notification_is_answered_and_records_nothing()
    {
        var delivery = JsonSerializer.Serialize(new { notificationType = "Delivery", mail = new { messageId = "m-1", source = "news@example.org" } });

        using var response = await PostAsync(Notification(delivery));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await BouncesAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_a_bad_request()
    {
        using var response = await PostAsync("{\"Type\": \"Notification\", ");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_SES_off_the_webhook_is_not_there()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var response = await client.PostAsync("/webhooks/ses", new StringContent(Notification(Complaint(Reader))));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>A notification signed as SNS signs it; SES's own notifications carry a Subject, which is signed too.</summary>
    private string Notification(
        string message, string topic = Topic, DateTimeOffset? at = null, int version = 2, string? certificateUrl = null, string? subject = null) =>
        _sns.Sign(new Dictionary<string, string?>
        {
            ["Type"] = "Notification",
            ["MessageId"] = Guid.NewGuid().ToString(),
            ["TopicArn"] = topic,
            ["Subject"] = subject,
            ["Message"] = message,
            ["Timestamp"] = Timestamp(at ?? TimeProvider.System.GetUtcNow()),
        }, version, certificateUrl);

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string Bounce(string type, string subType, string recipient, string? status, string source = "news@example.org") =>
        JsonSerializer.Serialize(new
        {
            notificationType = "Bounce",
            bounce = new
            {
                bounceType = type,
                bounceSubType = subType,
                bouncedRecipients = new[] { new { emailAddress = recipient, action = "failed", status, diagnosticCode = "smtp; 550 5.1.1 user unknown" } },
                timestamp = "2026-01-01T12:00:00.000Z",
                feedbackId = "0102017-" + Guid.NewGuid().ToString("N"),
            },
            mail = new { messageId = "ses-" + Guid.NewGuid().ToString("N"), source, destination = new[] { recipient } },
        });

    private static string Complaint(string recipient) => JsonSerializer.Serialize(new
    {
        notificationType = "Complaint",
        complaint = new
        {
            complainedRecipients = new[] { new { emailAddress = recipient } },
            complaintFeedbackType = "abuse",
            feedbackId = "0102018-" + Guid.NewGuid().ToString("N"),
        },
        mail = new { messageId = "ses-" + Guid.NewGuid().ToString("N"), source = "news@example.org", destination = new[] { recipient } },
    });

    private async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/ses") { Content = content };
        request.Headers.Add("x-amz-sns-message-type", "Notification");
        return await _client.SendAsync(request);
    }

    private async Task<bool> IsSuppressedAsync() => await BounceRecords.SuppressionAsync(_app, Reader) is not null;

    private Task<List<Bounce>> BouncesAsync() => BounceRecords.AllAsync(_app);
}
