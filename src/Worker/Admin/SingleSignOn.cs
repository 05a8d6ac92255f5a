using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin;

/// <summary>
/// Optional sign-in through an OpenID Connect provider (authorization code with PKCE). The provider's
/// verified email address leads to an existing editor, who gets the same cookie a password sign-in gives.
/// </summary>
public static class SingleSignOn
{
    public const string Scheme = "EditorOpenIdConnect";
    public const string StartPath = "/admin/sign-in/sso";
    public const string CallbackPath = "/admin/signin-oidc";

    /// <summary>What the sign-in page may say after a refused single sign-on, by the code in its query string:
    /// fixed sentences, so nothing the provider sent is ever shown.</summary>
    public static readonly IReadOnlyDictionary<string, string> Problems = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["failed"] = "Single sign-on did not complete. Try again, or sign in with your password.",
        ["no-email"] = "The single sign-on provider did not say which email address you use.",
        ["unverified"] = "The single sign-on provider has not verified your email address.",
        ["no-account"] = "No editor's account has that email address. An editor adds one on the Editors page, or with newsletter editors add.",
    };

    /// <summary>Registers the provider's scheme when the settings turn it on; its options are always bound and validated.</summary>
    internal static void AddSingleSignOn(this IHostApplicationBuilder builder, AuthenticationBuilder authentication, bool development)
    {
        builder.Services.AddOptions<OpenIdConnectSignInOptions>().BindConfiguration(OpenIdConnectSignInOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OpenIdConnectSignInOptions>, OpenIdConnectSignInOptionsValidator>();
        var settings = builder.Configuration.GetSection(OpenIdConnectSignInOptions.Section).Get<OpenIdConnectSignInOptions>();
        if (settings is not { Enabled: true })
        {
            return;
        }
        authentication.AddOpenIdConnect(Scheme, o =>
        {
            o.SignInScheme = EditorCookie.Scheme;
            o.Authority = settings.Authority;
            o.ClientId = settings.ClientId;
            o.ClientSecret = settings.ClientSecret;
            o.RequireHttpsMetadata = settings.RequireHttpsMetadata;
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.UsePkce = true;
            // Back as a top-level GET, so the SameSite=Lax correlation and nonce cookies come along.
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.Scope.Clear();
            o.Scope.Add("openid");
            o.Scope.Add("email");
            o.Scope.Add("profile");
            o.MapInboundClaims = false;
            o.SaveTokens = false;
            o.CallbackPath = CallbackPath;
            // The workspace signs out only of its own cookie; no remote sign-out request is answered.
            o.RemoteSignOutPath = PathString.Empty;
            o.SignedOutCallbackPath = PathString.Empty;
            foreach (var cookie in new[] { o.CorrelationCookie, o.NonceCookie })
            {
                cookie.SameSite = SameSiteMode.Lax;
                cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            }
            o.Events.OnTokenValidated = TokenValidatedAsync;
            o.Events.OnRemoteFailure = RemoteFailure;
        });
    }

    /// <summary>GET /admin/sign-in/sso starts the provider's sign-in, to come back to a workspace page.</summary>
    internal static void MapSingleSignOn(this WebApplication app) =>
        app.MapGet(StartPath, Results<ChallengeHttpResult, RedirectHttpResult> (string? returnUrl, IOptions<OpenIdConnectSignInOptions> options) =>
                options.Value.Enabled
                    ? TypedResults.Challenge(new AuthenticationProperties { RedirectUri = WorkspaceReturnUrl(returnUrl) }, [Scheme])
                    : TypedResults.Redirect("/admin/sign-in"))
            .AllowAnonymous();

    /// <summary>A local workspace address, else the workspace's first page: never somewhere else.</summary>
    internal static string WorkspaceReturnUrl(string? url) =>
        url is { } u && (u == "/admin" || u.StartsWith("/admin/", StringComparison.Ordinal) || u.StartsWith("/admin?", StringComparison.Ordinal))
            && !u.Contains('\\', StringComparison.Ordinal) && !u.Any(char.IsControl)
            ? u
            : "/admin";

    private static async Task TokenValidatedAsync(TokenValidatedContext context)
    {
        var claims = context.Principal;
        var email = claims?.FindFirst("email")?.Value;
        if (string.IsNullOrWhiteSpace(email))
        {
            context.Fail(new Refusal("no-email"));
            return;
        }
        // Absent is accepted (many providers only give verified addresses); present and not true is refused.
        if (claims!.FindFirst("email_verified")?.Value is { } verified && !string.Equals(verified, "true", StringComparison.OrdinalIgnoreCase))
        {
            context.Fail(new Refusal("unverified"));
            return;
        }
        var services = context.HttpContext.RequestServices;
        var cancellationToken = context.HttpContext.RequestAborted;
        var editor = await services.GetRequiredService<EditorSignIn>().SingleSignOnAsync(email, cancellationToken);
        if (editor is null)
        {
            context.Fail(new Refusal("no-account"));
            return;
        }
        // The password sign-in's principal: the stamp keeps the per-request check working.
        context.Principal = EditorCookie.Principal(editor, singleSignOn: true);
        await services.GetRequiredService<AuditLog>().RecordAsync(editor.Email, "signed in (single sign-on)", null, null, cancellationToken);
    }

    private static Task RemoteFailure(RemoteFailureContext context)
    {
        var code = context.Failure is Refusal refusal ? refusal.Code : "failed";
        context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SingleSignOn))
            .LogWarning("Single sign-on refused ({Code}): {Reason}", code, context.Failure?.Message);
        context.Response.Redirect($"/admin/sign-in?sso={code}");
        context.HandleResponse();
        return Task.CompletedTask;
    }

    /// <summary>A refusal of ours, told apart from the provider's and the protocol's own failures.</summary>
    private sealed class Refusal(string code) : Exception($"single sign-on refused: {code}")
    {
        public string Code { get; } = code;
    }
}
