using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Bounces;

/// <summary>
/// Decides whether an SNS message is ours: from an allowed topic, recent, and signed by the key of a
/// certificate downloaded over https from an allowed host. A valid signature proves only that SNS sent
/// it (anyone can own a topic), hence the topic list; the age limit stops old messages being replayed.
/// </summary>
public sealed class SnsVerifier(IHttpClientFactory clients, IOptions<BouncesOptions> options, TimeProvider time)
{
    /// <summary>The named HttpClient that fetches certificates and confirms subscriptions.</summary>
    public const string HttpClientName = "Newsletter.Bounces.Sns";

    private const int MaxCertificateBytes = 64 * 1024;
    private const int MaxCachedCertificates = 32;

    private readonly ConcurrentDictionary<string, Cached> _certificates = new(StringComparer.Ordinal);

    /// <summary>Null when the message may be acted on; otherwise why it may not, in one line.</summary>
    public async Task<string?> RefusalAsync(SnsMessage message, CancellationToken cancellationToken)
    {
        var ses = options.Value.Ses;
        if (!ses.TopicArns.Any(t => string.Equals(t?.Trim(), message.TopicArn, StringComparison.Ordinal)))
        {
            return $"topic {message.TopicArn} is not in Bounces:Ses:TopicArns";
        }
        var now = time.GetUtcNow();
        if (message.PublishedAt is not { } published)
        {
            return $"its Timestamp '{message.Timestamp}' is not a time";
        }
        if ((now - published).Duration() > ses.MaxMessageAge)
        {
            return $"it was published at {published:u}, more than {ses.MaxMessageAge} from now (a replay?)";
        }
        var hash = message.SignatureVersion switch
        {
            "1" => HashAlgorithmName.SHA1,
            "2" => HashAlgorithmName.SHA256,
            _ => default(HashAlgorithmName?),
        };
        if (hash is null)
        {
            return $"unknown SignatureVersion '{message.SignatureVersion}'";
        }
        if (SnsHosts.Allowed(message.SigningCertUrl, ses.AllowedCertificateHosts, out var urlProblem) is not { } certificateUrl)
        {
            return $"its SigningCertURL is refused: {urlProblem}";
        }
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(message.Signature);
        }
        catch (FormatException)
        {
            return "its Signature is not base64";
        }
        var (certificate, fetchProblem) = await CertificateAsync(certificateUrl, now, cancellationToken);
        if (certificate is null)
        {
            return $"its signing certificate could not be had: {fetchProblem}";
        }
        if (now.UtcDateTime < certificate.NotBefore.ToUniversalTime() || now.UtcDateTime > certificate.NotAfter.ToUniversalTime())
        {
            return $"its signing certificate is not valid now (valid {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u})";
        }
        using var key = certificate.GetRSAPublicKey();
        if (key is null)
        {
            return "its signing certificate has no RSA key";
        }
        var signed = Encoding.UTF8.GetBytes(message.StringToSign());
        return key.VerifyData(signed, signature, hash.Value, RSASignaturePadding.Pkcs1)
            ? null
            : "its signature does not match the message";
    }

    private async Task<(X509Certificate2? Certificate, string Problem)> CertificateAsync(Uri url, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lifetime = options.Value.Ses.CertificateCacheLifetime;
        var key = url.AbsoluteUri;
        if (_certificates.TryGetValue(key, out var cached) && now - cached.FetchedAt < lifetime)
        {
            return (cached.Certificate, "");
        }
        string pem;
        try
        {
            using var client = clients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{url.Host} answered {(int)response.StatusCode}");
            }
            if (response.Content.Headers.ContentLength > MaxCertificateBytes)
            {
                return (null, "it is too large to be a certificate");
            }
            pem = await ReadBoundedAsync(response.Content, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, ex is TaskCanceledException ? $"{url.Host} did not answer in time" : $"{url.Host}: {ex.Message}");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException)
        {
            return (null, "what it serves is not a PEM certificate");
        }
        if (_certificates.Count >= MaxCachedCertificates)
        {
            _certificates.Clear(); // only allowed hosts get here; a full cache means something odd, so start over
        }
        _certificates[key] = new Cached(certificate, now);
        return (certificate, "");
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxCertificateBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }
        if (total > MaxCertificateBytes)
        {
            throw new HttpRequestException("it is too large to be a certificate");
        }
        return Encoding.ASCII.GetString(buffer, 0, total);
    }

    private sealed record Cached(X509Certificate2 Certificate, DateTimeOffset FetchedAt);
}
