using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>X-Forwarded-For is believed only from the proxies the settings name; rate limits count an IPv6
/// client by its /64; the switch that would believe anyone stops the start.</summary>
public sealed class ReverseProxyTests
{
    private static async Task<HttpResponseMessage> SignUpFromAsync(SignupWorld world, string email, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe")
        {
            Content = SignupWorld.Form(("email", email), ("editions", "weekly-tip")),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await world.Client.SendAsync(request);
    }

    private static async Task<string?> ConsentAddressAsync(SignupWorld world, string email)
    {
        await using var db = world.App.OpenDb();
        return await db.Set<ConsentRecord>().Where(c => db.Subscribers.Any(s => s.Id == c.SubscriberId && s.Email == email))
            .Select(c => c.IpAddress).SingleAsync();
    }

    [Fact]
    public async Task Without_a_known_proxy_a_clients_own_X_Forwarded_For_is_ignored()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);

        using var response = await SignUpFromAsync(world, "kim@example.org", "203.0.113.9");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("127.0.0.1", await ConsentAddressAsync(world, "kim@example.org"));
    }

    [Theory]
    [InlineData("ReverseProxy:KnownProxies:0", "127.0.0.1", "203.0.113.9")]
    [InlineData("ReverseProxy:KnownNetworks:0", "127.0.0.0/8", "203.0.113.9")]
    [InlineData("ReverseProxy:KnownProxies:0", "10.1.2.3", "127.0.0.1")]
    public async Task Only_a_named_proxys_X_Forwarded_For_gives_the_readers_address(string key, string value, string expected)
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set(key, value), kestrel: true);

        using var response = await SignUpFromAsync(world, "kim@example.org", "203.0.113.9");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await ConsentAddressAsync(world, "kim@example.org"));
    }

    [Fact]
    public async Task An_IPv6_client_is_one_rate_limit_bucket_per_64_however_many_addresses_it_uses()
    {
        await using var world = await SignupWorld.StartAsync(
            app => app.Set("ReverseProxy:KnownProxies:0", "127.0.0.1").Set("Subscribers:RateLimit:SubscribePermitLimit", "2"), kestrel: true);

        var sameNetwork = new List<HttpStatusCode>();
        foreach (var address in new[] { "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3" })
        {
            using var answer = await SignUpFromAsync(world, $"reader{sameNetwork.Count}@example.org", address);
            sameNetwork.Add(answer.StatusCode);
        }
        using var otherNetwork = await SignUpFromAsync(world, "other@example.org", "2001:db8:1:3::1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], sameNetwork);
        Assert.Equal(HttpStatusCode.OK, otherNetwork.StatusCode);
    }

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    public void A_clients_bucket_is_its_IPv4_address_or_its_IPv6_64(string address, string bucket)
    {
        Assert.Equal(bucket, Newsletter.Worker.Configuration.ClientAddresses.Partition(IPAddress.Parse(address)));
    }

    [Fact]
    public async Task The_switch_that_believes_any_client_stops_the_start_in_one_line()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        app.Set("ReverseProxy:KnownNetworks:0", "not-a-network");
        using var badNetwork = NewsletterProcess.Start(app, []);
        app.Set("ReverseProxy:KnownNetworks:0", "10.0.0.0/8");
        using var anyone = NewsletterProcess.Start(app, [], ("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true"));

        Assert.Equal(2, await badNetwork.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(2, await anyone.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("ReverseProxy:KnownNetworks: 'not-a-network' is not a network in CIDR form", badNetwork.StandardError, StringComparison.Ordinal);
        Assert.Contains("ASPNETCORE_FORWARDEDHEADERS_ENABLED: believes X-Forwarded-For from any client", anyone.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", anyone.StandardError, StringComparison.Ordinal);
    }
}
