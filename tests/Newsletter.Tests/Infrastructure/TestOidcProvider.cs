using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Newsletter.Tests.Infrastructure;

/// <summary>
/// A minimal OpenID Connect provider on a free loopback port: discovery, an authorization endpoint that
/// approves at once as <see cref="Email"/> (checking the client, its redirect address and the PKCE challenge),
/// a token endpoint (checking the code, the verifier and the client secret) that returns an RS256 id_token,
/// and the key set. A request it refuses is answered 400 and its reason kept in <see cref="Refusals"/>.
/// </summary>
public sealed class TestOidcProvider : IAsyncDisposable
{
    public const string ClientId = "newsletter-tests";
    public const string ClientSecret = "a secret only the tests know";

    private readonly WebApplication _app;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;
    private readonly ConcurrentDictionary<string, Grant> _codes = new(StringComparer.Ordinal);
    private int _tokensIssued;

    private TestOidcProvider(WebApplication app)
    {
        _app = app;
        _key = new RsaSecurityKey(_rsa) { KeyId = "test-key-1" };
    }

    /// <summary>The issuer, e.g. http://127.0.0.1:41234 (what Editors:OpenIdConnect:Authority is set to).</summary>
    public string Authority { get; private set; } = "";

    /// <summary>The only redirect address the client may use; set once the app's port is known.</summary>
    public string? RedirectUri { get; set; }

    /// <summary>Who the provider says is signing in.</summary>
    public string Email { get; set; } = "sam@example.org";

    /// <summary>The id_token's email_verified claim; null leaves it out.</summary>
    public bool? EmailVerified { get; set; } = true;

    /// <summary>When set, the authorization endpoint answers with this error instead of a code.</summary>
    public (string Code, string Description)? Error { get; set; }

    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    public ConcurrentQueue<string> Refusals { get; } = new();

    public static async Task<TestOidcProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var provider = new TestOidcProvider(builder.Build());
        provider.Map();
        await provider._app.StartAsync();
        var address = provider._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        provider.Authority = address.TrimEnd('/');
        return provider;
    }

    private void Map()
    {
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Authority,
            ["authorization_endpoint"] = $"{Authority}/authorize",
            ["token_endpoint"] = $"{Authority}/token",
            ["jwks_uri"] = $"{Authority}/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["response_modes_supported"] = new[] { "query" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.RsaSha256 },
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["scopes_supported"] = new[] { "openid", "email", "profile" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post" },
        }));
        _app.MapGet("/authorize", Authorize);
        _app.MapPost("/token", TokenAsync);
        _app.MapGet("/jwks", () =>
        {
            var key = _rsa.ExportParameters(includePrivateParameters: false);
            return Results.Json(new
            {
                keys = new[]
                {
                    new { kty = "RSA", use = "sig", alg = SecurityAlgorithms.RsaSha256, kid = _key.KeyId, n = Base64UrlEncoder.Encode(key.Modulus), e = Base64UrlEncoder.Encode(key.Exponent) },
                },
            });
        });
    }

    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        var refusal =
            q["client_id"] != ClientId ? $"client_id '{q["client_id"]}'" :
            RedirectUri is null || q["redirect_uri"] != RedirectUri ? $"redirect_uri '{q["redirect_uri"]}' (expected '{RedirectUri}')" :
            q["response_type"] != "code" ? $"response_type '{q["response_type"]}'" :
            // Query is the code flow's default answer, so a client may leave response_mode out.
            q["response_mode"] is { Count: > 0 } mode && mode != "query" ? $"response_mode '{mode}'" :
            q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"]) ? "no S256 code_challenge" :
            !(q["scope"].ToString().Split(' ') is var scopes && scopes.Contains("openid") && scopes.Contains("email")) ? $"scope '{q["scope"]}'" :
            string.IsNullOrEmpty(q["state"]) || string.IsNullOrEmpty(q["nonce"]) ? "no state or nonce" :
            null;
        if (refusal is not null)
        {
            return Refuse("authorize: " + refusal);
        }
        if (Error is { } error)
        {
            return Results.Redirect(QueryHelpers.AddQueryString(RedirectUri!, new Dictionary<string, string?>
            {
                ["error"] = error.Code,
                ["error_description"] = error.Description,
                ["state"] = q["state"],
            }));
        }
        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
        _codes[code] = new Grant(q["code_challenge"]!, q["nonce"]!, RedirectUri!);
        return Results.Redirect(QueryHelpers.AddQueryString(RedirectUri!, new Dictionary<string, string?> { ["code"] = code, ["state"] = q["state"] }));
    }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var grant))
        {
            return Refuse("token: unknown code or grant type");
        }
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString())));
        var refusal =
            form["client_id"] != ClientId || form["client_secret"] != ClientSecret ? "client authentication" :
            form["redirect_uri"] != grant.RedirectUri ? $"redirect_uri '{form["redirect_uri"]}'" :
            challenge != grant.Challenge ? "code_verifier does not match the code_challenge" :
            null;
        if (refusal is not null)
        {
            return Refuse("token: " + refusal);
        }
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "user-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Email)), 0, 6),
            ["email"] = Email,
            ["nonce"] = grant.Nonce,
        };
        if (EmailVerified is { } verified)
        {
            claims["email_verified"] = verified;
        }
        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Authority,
            Audience = ClientId,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
        Interlocked.Increment(ref _tokensIssued);
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)),
            ["token_type"] = "Bearer",
            ["expires_in"] = 300,
            ["id_token"] = idToken,
        });
    }

    private IResult Refuse(string why)
    {
        Refusals.Enqueue(why);
        return Results.BadRequest(why);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _rsa.Dispose();
    }

    private sealed record Grant(string Challenge, string Nonce, string RedirectUri);
}
