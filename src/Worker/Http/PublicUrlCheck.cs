using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Http;

/// <summary>
/// Once the pages listen, warns when the links in emails (built on Newsletter:PublicBaseUrl) cannot
/// reach this process, or are plain http outside Development. A reverse proxy in front is legitimate,
/// so this says what to check and stops nothing.
/// </summary>
internal sealed class PublicUrlCheck(
    IServer server, IHostApplicationLifetime lifetime, IHostEnvironment environment, IOptions<NewsletterOptions> options,
    ILogger<PublicUrlCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            foreach (var warning in Problems(options.Value.PublicBaseUrl, listening, environment.IsDevelopment(), environment.EnvironmentName))
            {
                logger.LogWarning("{Warning}", warning);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What is wrong with <paramref name="publicBaseUrl"/> for a process listening on <paramref name="listening"/>.</summary>
    public static IReadOnlyList<string> Problems(string publicBaseUrl, IReadOnlyCollection<string> listening, bool isDevelopment, string environmentName)
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(publicBaseUrl, UriKind.Absolute, out var target))
        {
            return problems; // options validation reports it
        }
        var addresses = listening.Select(a => Uri.TryCreate(a.Replace("://+", "://0.0.0.0", StringComparison.Ordinal)
            .Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var u) ? u : null).OfType<Uri>().ToList();
        if (addresses.Count > 0 && !addresses.Any(a => Reaches(a, target)))
        {
            problems.Add($"Newsletter:PublicBaseUrl is {publicBaseUrl}, but this service listens on {string.Join(", ", listening)} (Urls): " +
                         "links in emails (confirm, unsubscribe, preferences) reach it only if a reverse proxy forwards them here. " +
                         "If none does, set Newsletter__PublicBaseUrl to the address readers use, or Urls to match it.");
        }
        if (target.Scheme == Uri.UriSchemeHttp && !isDevelopment)
        {
            problems.Add($"Newsletter:PublicBaseUrl is plain http ({publicBaseUrl}) in the {environmentName} environment: " +
                         "mailbox providers expect https unsubscribe links. Set Newsletter__PublicBaseUrl=https://… (TLS may end at a reverse proxy).");
        }
        return problems;
    }

    private static bool Reaches(Uri listen, Uri target) =>
        listen.Scheme == target.Scheme && listen.Port == target.Port && SameHost(listen.Host, target.Host);

    private static bool SameHost(string listen, string target)
    {
        var l = listen.Trim('[', ']');
        if (l is "0.0.0.0" or "::" || string.Equals(l, target.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IsLoopback(l) && IsLoopback(target.Trim('[', ']'));
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
