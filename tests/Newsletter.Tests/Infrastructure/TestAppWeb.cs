using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Newsletter.Tests.Infrastructure;

/// <summary>
/// The real web app (<c>Program</c>'s top-level code) in the ASP.NET test host, on a
/// <see cref="TestApp"/>'s configuration. Settings are given with <c>UseSetting</c>, which the test
/// host passes to <c>Program</c> as command-line arguments, so they are in place before
/// <c>Program</c> reads them (the connection string, <c>Scheduling:Enabled</c>). <paramref name="services"/>
/// adds to or overrides the app's services (a log capture, a database interceptor).
/// </summary>
public sealed class TestWebApp(TestApp app, Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in app.Settings)
        {
            builder.UseSetting(key, value);
        }
        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }

    /// <summary>A client that does not follow redirects (the unsubscribe endpoints must not redirect).</summary>
    public HttpClient CreateNoRedirectClient() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
    });
}
