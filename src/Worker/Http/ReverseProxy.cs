using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Http;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Nobody else's
/// are: a client reaching Kestrel directly must not choose its own rate-limit bucket or the address kept as
/// evidence of its consent. Off until <see cref="KnownProxies"/> or <see cref="KnownNetworks"/> names one.
/// </summary>
public sealed class ReverseProxyOptions
{
    public const string Section = "ReverseProxy";

    /// <summary>The proxies' own addresses, e.g. <c>127.0.0.1</c> for nginx on the same machine.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of proxies in CIDR form, e.g. <c>10.0.0.0/8</c> for a load balancer's subnet.</summary>
    public string[] KnownNetworks { get; set; } = [];

    public bool Enabled => KnownProxies.Length + KnownNetworks.Length > 0;
}

/// <summary>Checks the proxies' addresses, and refuses the setting that would believe anyone.</summary>
internal sealed class ReverseProxyOptionsValidator(IConfiguration configuration) : IValidateOptions<ReverseProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ReverseProxyOptions options)
    {
        var problems = new List<string>();
        problems.AddRange(options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _))
            .Select(p => $"ReverseProxy:KnownProxies: '{p}' is not an IP address."));
        problems.AddRange(options.KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _))
            .Select(n => $"ReverseProxy:KnownNetworks: '{n}' is not a network in CIDR form (such as 10.0.0.0/8)."));
        // ASP.NET Core's switch clears the known proxies, so any client's X-Forwarded-For would be believed.
        if (string.Equals(configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("ASPNETCORE_FORWARDEDHEADERS_ENABLED: believes X-Forwarded-For from any client; remove it and name the proxy " +
                         "in ReverseProxy:KnownProxies (or ReverseProxy:KnownNetworks) instead.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class ReverseProxy
{
    public static IHostApplicationBuilder AddNewsletterReverseProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReverseProxyOptions>().BindConfiguration(ReverseProxyOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ReverseProxyOptions>, ReverseProxyOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ReverseProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Value.KnownProxies.Where(p => IPAddress.TryParse(p, out _)))
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in proxies.Value.KnownNetworks.Where(n => IPNetwork.TryParse(n, out _)))
            {
                forwarded.KnownIPNetworks.Add(IPNetwork.Parse(network));
            }
        });
        return builder;
    }

    /// <summary>First in the pipeline, so the limits, the pages and the workspace all see the reader's address.</summary>
    /// <remarks>Only when a proxy is named: with no known proxy at all, ASP.NET Core's middleware believes anyone. The
    /// options are read per request, not here, so a bad setting is reported by the start's validation in one line.</remarks>
    public static WebApplication UseNewsletterReverseProxy(this WebApplication app)
    {
        app.UseWhen(context => context.RequestServices.GetRequiredService<IOptions<ReverseProxyOptions>>().Value.Enabled,
            branch => branch.UseForwardedHeaders());
        return app;
    }
}
