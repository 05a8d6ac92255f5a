using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>The unsubscribe endpoints on their own: GET is safe, POST is one-click and lenient, bad links are 400.</summary>
public sealed class UnsubscribeEndpointTests : IAsyncLifetime
{
    private TestApp _app = null!;
    private TestWebApp _web = null!;
    private HttpClient _client = null!;
    private int _subscriber;
    private string _linkKey = "";
    private LinkTokenSigner _signer = null!;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create();
        await using (var host = await _app.StartHostAsync())
        {
            var added = await host.InScopeAsync<SubscriberList, AddSubscriberResult>(
                l => l.AddAsync("reader@example.org", "Robin", ["weekly-tip", "weekly-fact"], confirmed: true));
            Assert.True(added.Succeeded, added.Error);
            _subscriber = added.Subscriber!.Id;
            _linkKey = added.Subscriber.LinkKey;
            _signer = host.Services.GetRequiredService<LinkTokenSigner>();
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

    private string Token(TokenPurpose purpose = TokenPurpose.Unsubscribe, string edition = "weekly-tip", string? linkKey = null) =>
        _signer.Sign(new LinkToken(purpose, linkKey ?? _linkKey, edition));

    private async Task<SubscriptionStatus> StatusAsync(string edition = "weekly-tip")
    {
        await using var db = _app.OpenDb();
        return (await db.Subscriptions.SingleAsync(s => s.SubscriberId == _subscriber && s.Edition == edition)).Status;
    }

    [Fact]
    public async Task A_GET_shows_a_confirmation_page_and_changes_nothing_however_often_it_is_fetched()
    {
        for (var i = 0; i < 3; i++)
        {
            using var response = await _client.GetAsync($"/unsubscribe/{Token()}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(SubscriptionStatus.Active, await StatusAsync());
    }

    [Fact]
    public async Task The_page_form_posts_back_to_the_same_link_with_the_one_click_field()
    {
        var token = Token();
        using var response = await _client.GetAsync($"/unsubscribe/{token}");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Contains($"action=\"/unsubscribe/{token}\"", html, StringComparison.Ordinal);
        Assert.Contains("name=\"List-Unsubscribe\" value=\"One-Click\"", html, StringComparison.Ordinal);
        Assert.Contains("<html lang=", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_one_click_POST_unsubscribes_from_that_edition_only_without_a_redirect_or_cookie()
    {
        using var response = await _client.PostAsync($"/unsubscribe/{Token()}", EndToEndSmtpTests.OneClickUrlEncoded());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync());
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync("weekly-fact"));
        await using var db = _app.OpenDb();
        Assert.NotNull((await db.Subscriptions.SingleAsync(s => s.SubscriberId == _subscriber && s.Edition == "weekly-tip")).UnsubscribedAt);
    }

    [Fact]
    public async Task A_multipart_POST_unsubscribes_too_and_repeating_it_is_harmless()
    {
        using var first = await _client.PostAsync($"/unsubscribe/{Token()}", EndToEndSmtpTests.OneClickMultipart());
        using var second = await _client.PostAsync($"/unsubscribe/{Token()}", EndToEndSmtpTests.OneClickMultipart());

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync());
    }

    [Fact]
    public async Task A_POST_with_an_empty_body_still_unsubscribes()
    {
        using var response = await _client.PostAsync($"/unsubscribe/{Token()}", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync());
    }

    [Fact]
    public async Task A_malformed_multipart_body_is_refused_with_400_and_changes_nothing()
    {
        var content = new ByteArrayContent("--nope\r\nthis is not multipart"u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=expected-boundary");

        using var response = await _client.PostAsync($"/unsubscribe/{Token()}", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync());
    }

    public static TheoryData<string> BadTokens => new()
    {
        "forged", "truncated", "payload-only", "garbage", "other-purpose", "unknown-edition",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_link_is_refused_with_400_on_GET_and_POST_and_changes_nothing(string kind)
    {
        var good = Token();
        var token = kind switch
        {
            "forged" => EndToEndSmtpTests.Forged(good),
            "truncated" => good[..^10],
            "payload-only" => good[..good.IndexOf('.', StringComparison.Ordinal)],
            "garbage" => "not-a-token",
            "other-purpose" => Token(TokenPurpose.Confirm),
            "unknown-edition" => Token(edition: "weekly-nope"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        using var get = await _client.GetAsync($"/unsubscribe/{token}");
        using var post = await _client.PostAsync($"/unsubscribe/{token}", EndToEndSmtpTests.OneClickUrlEncoded());

        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("This link does not work", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync());
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync("weekly-fact"));
    }

    [Fact]
    public async Task A_link_for_a_subscriber_who_no_longer_exists_is_harmless()
    {
        using var get = await _client.GetAsync($"/unsubscribe/{Token(linkKey: "0123456789abcdef0123456789abcdef")}");
        using var post = await _client.PostAsync($"/unsubscribe/{Token(linkKey: "0123456789abcdef0123456789abcdef")}", EndToEndSmtpTests.OneClickUrlEncoded());

        Assert.True(get.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"GET {get.StatusCode}");
        Assert.True(post.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"POST {post.StatusCode}");
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync());
    }
}
