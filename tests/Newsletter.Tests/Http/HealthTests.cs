using System.Net;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>Liveness: /healthz answers before routing, signed in or not, and the pages behind routing still work.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_answers_healthy_and_routing_still_serves_the_pages()
    {
        await using var app = TestApp.Create();
        await using var web = app.CreateWebApp();
        using var client = web.CreateClient();

        using var health = await client.GetAsync("/healthz");
        using var signIn = await client.GetAsync("/admin/sign-in");
        using var subscribe = await client.GetAsync("/subscribe");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, subscribe.StatusCode);
    }
}
