using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Http;

namespace Newsletter.Tests.Http;

/// <summary>The service warns when Newsletter:PublicBaseUrl, the base of every link in an email,
/// cannot reach it or is plain http outside Development; it never stops for it (a proxy may be in front).</summary>
public sealed class PublicUrlCheckTests
{
    [Theory]
    [InlineData("http://localhost:5080", "http://127.0.0.1:5080", true, 0)]
    [InlineData("http://localhost:5080", "http://[::1]:5080", true, 0)]
    [InlineData("http://localhost:5080", "http://localhost:5081", true, 1)]
    [InlineData("http://localhost:5080", "https://localhost:5080", true, 1)]
    [InlineData("https://news.example.org", "https://[::]:443", false, 0)]
    [InlineData("https://news.example.org", "https://+:443", false, 0)]
    [InlineData("https://news.example.org", "http://localhost:5080", false, 1)]
    [InlineData("http://news.example.org", "http://0.0.0.0:80", false, 1)]
    [InlineData("http://news.example.org", "http://0.0.0.0:80", true, 0)]
    [InlineData("http://localhost:5080", "http://localhost:5081", false, 2)]
    public void A_base_url_that_cannot_reach_the_listen_address_or_is_http_outside_development_is_named(
        string publicBaseUrl, string listening, bool development, int warnings)
    {
        var problems = PublicUrlCheck.Problems(publicBaseUrl, [listening], development, development ? "Development" : "Production");

        Assert.Equal(warnings, problems.Count);
        Assert.All(problems, p => Assert.StartsWith("Newsletter:PublicBaseUrl is ", p, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_running_service_logs_the_warning_and_keeps_running()
    {
        await using var app = TestApp.Create();
        using var service = NewsletterProcess.Start(app, []);

        await service.WaitForOutputAsync(
            "Newsletter:PublicBaseUrl is https://news.example.org, but this service listens on http://127.0.0.1:", TimeSpan.FromMinutes(2));

        Assert.Contains("Newsletter:PublicBaseUrl is https://news.example.org", service.StandardOutput, StringComparison.Ordinal);
        Assert.False(service.HasExited, "the warning stopped the service\n" + service.Output);
    }
}
