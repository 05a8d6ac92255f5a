using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Newsletter.Tests.Infrastructure;

/// <summary>
/// Plays Amazon SNS for the webhook tests: an HTTPS server on a free loopback port (its own self-signed
/// TLS certificate) that serves a signing certificate's PEM at <c>/cert.pem</c> and answers
/// <c>/confirm</c> as a SubscribeURL does, and signs messages with that certificate's key exactly as SNS
/// does. Every request it gets is kept in <see cref="Requests"/>.
/// </summary>
public sealed class TestSnsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _tls;
    private readonly RSA _signingKey = RSA.Create(2048);
    private readonly string _signingPem;

    private TestSnsServer(WebApplication app, X509Certificate2 tls)
    {
        _app = app;
        _tls = tls;
        var now = TimeProvider.System.GetUtcNow();
        var request = new CertificateRequest("CN=sns.test-region.amazonaws.example", _signingKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var signing = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        _signingPem = signing.ExportCertificatePem();
    }

    /// <summary>https://127.0.0.1:PORT</summary>
    public string BaseUrl { get; private set; } = "";

    public int Port => new Uri(BaseUrl).Port;

    /// <summary>Path and query of every request received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public string CertificateUrl => $"{BaseUrl}/cert.pem";

    public static async Task<TestSnsServer> StartAsync()
    {
        var tls = CreateTlsCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseHttps(tls)));
        var server = new TestSnsServer(builder.Build(), tls);
        server._app.Use((context, next) =>
        {
            server.Requests.Enqueue(context.Request.Path + context.Request.QueryString);
            return next(context);
        });
        server._app.MapGet("/cert.pem", () => Results.Text(server._signingPem, "application/x-pem-file"));
        server._app.MapGet("/confirm", () => Results.Text("<ConfirmSubscriptionResponse/>", "text/xml"));
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = address.TrimEnd('/');
        return server;
    }

    /// <summary>A handler for the app's SNS HttpClient that trusts this server's TLS certificate, and only it.</summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        var thumbprint = _tls.GetCertHashString(HashAlgorithmName.SHA256);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 presented && presented.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint,
            },
        };
    }

    /// <summary>
    /// An SNS envelope as SNS posts it: the fields, and a signature over the signed ones ("Name\nvalue\n"
    /// in name order; Subject only when present) with SHA1 (version 1) or SHA256 (version 2).
    /// </summary>
    public string Sign(IReadOnlyDictionary<string, string?> fields, int version = 2, string? certificateUrl = null)
    {
        var all = new Dictionary<string, string?>(fields)
        {
            ["SignatureVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SigningCertURL"] = certificateUrl ?? CertificateUrl,
        };
        string[] signedNames = all["Type"] == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
        var text = new StringBuilder();
        foreach (var name in signedNames.Where(n => all.GetValueOrDefault(n) is not null))
        {
            text.Append(name).Append('\n').Append(all[name]).Append('\n');
        }
        var hash = version == 1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        all["Signature"] = Convert.ToBase64String(_signingKey.SignData(Encoding.UTF8.GetBytes(text.ToString()), hash, RSASignaturePadding.Pkcs1));
        return JsonSerializer.Serialize(all.Where(p => p.Value is not null).ToDictionary());
    }

    private static X509Certificate2 CreateTlsCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = TimeProvider.System.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        // Through PKCS#12, so the key is one the TLS stack can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _signingKey.Dispose();
        _tls.Dispose();
    }
}
