using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin;

/// <summary>The editor's workspace under /admin: Razor Pages behind a cookie sign-in, antiforgery on every form.</summary>
public static class AdminExtensions
{
    public const string SignInRateLimit = "editor-sign-in";

    public static IHostApplicationBuilder AddNewsletterAdmin(this IHostApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        var authentication = builder.Services.AddAuthentication(EditorCookie.Scheme);
        authentication.AddCookie(EditorCookie.Scheme, o =>
        {
            o.LoginPath = "/admin/sign-in";
            o.LogoutPath = "/admin/sign-out";
            o.AccessDeniedPath = "/admin/sign-in";
            o.Cookie.Name = "newsletter-editor";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            o.SlidingExpiration = true;
            o.Events.OnRedirectToLogin = context =>
            {
                // Scripts calling the workspace's API get a status, not a page.
                if (context.Request.Path.StartsWithSegments("/admin/api"))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                }
                else
                {
                    context.Response.Redirect(context.RedirectUri);
                }
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = EditorCookie.ValidateAsync;
        });
        builder.AddSingleSignOn(authentication, development);
        builder.Services.AddOptions<CookieAuthenticationOptions>(EditorCookie.Scheme)
            .Configure<IOptions<EditorsOptions>>((o, editors) => o.ExpireTimeSpan = editors.Value.SessionLifetime);
        builder.Services.AddAuthorization();
        builder.Services.AddScoped<Readers.ReaderSearch>();
        builder.Services.AddScoped<Readers.ReaderEditions>();
        builder.Services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Admin/Pages";
            o.Conventions.AuthorizeFolder("/");
            o.Conventions.AllowAnonymousToPage("/SignIn");
        });
        // Attempts (POST) per IP address; showing the form is free.
        builder.Services.AddRateLimiter(o => o.AddPolicy(SignInRateLimit, context => HttpMethods.IsGet(context.Request.Method)
            ? RateLimitPartition.GetNoLimiter("form")
            : RateLimitPartition.GetFixedWindowLimiter(Configuration.ClientAddresses.Partition(context.Connection.RemoteIpAddress), _ =>
                new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<EditorsOptions>>().Value.SignInAttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                })));
        return builder;
    }

    public static WebApplication MapNewsletterAdmin(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/admin"))
            {
                // Editors' pages hold people's data: never stored by a proxy or the browser's cache.
                context.Response.Headers.CacheControl = "no-store";
            }
            return next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        app.MapSingleSignOn();
        app.MapGet(PublicationScript.Path, () => TypedResults.Text(PublicationScript.Source, "text/javascript; charset=utf-8"))
            .RequireAuthorization();
        app.MapGet("/admin/api/publications/{id:int}", async (int id, NewsletterDbContext db, TimeProvider time, CancellationToken cancellationToken) =>
                await PublicationView.ReadAsync(db, id, time.GetUtcNow().UtcDateTime, cancellationToken) is { } view
                    ? Results.Json(view.Live())
                    : Results.NotFound())
            .RequireAuthorization();
        // An issue's results are its publication's: the issue-centred address leads there.
        app.MapGet("/admin/issues/{id:int}/results", async Task<Results<RedirectHttpResult, NotFound>> (
                int id, NewsletterDbContext db, CancellationToken cancellationToken) =>
                await PublicationView.OfIssueAsync(db, id, cancellationToken) is { } publicationId
                    ? TypedResults.Redirect($"/admin/publications/{publicationId}")
                    : TypedResults.NotFound())
            .RequireAuthorization();
        return app;
    }
}

/// <summary>The editor's sign-in cookie: who they are, and a stamp of their password so that a password
/// change or a removed account ends every other sign-in.</summary>
public static class EditorCookie
{
    public const string Scheme = "Editor";
    public const string StampClaim = "newsletter:password-stamp";
    public const string MustChangePasswordClaim = "newsletter:must-change-password";

    /// <summary>The sign-in's principal. A <paramref name="singleSignOn"/> sign-in used no password, so a one-time
    /// password waiting to be changed does not stop it; the stamp still ties it to the current password.</summary>
    public static ClaimsPrincipal Principal(Editor editor, bool singleSignOn = false) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, editor.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new Claim(ClaimTypes.Name, editor.Email),
        new Claim(StampClaim, EditorSignIn.Stamp(editor)),
        new Claim(MustChangePasswordClaim, editor.MustChangePassword && !singleSignOn ? "true" : "false"),
    ], Scheme));

    public static int? EditorId(ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;

    internal static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var id = context.Principal is { } user ? EditorId(user) : null;
        var db = context.HttpContext.RequestServices.GetRequiredService<NewsletterDbContext>();
        var editor = id is null ? null : await db.Editors.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, context.HttpContext.RequestAborted);
        if (editor is null || EditorSignIn.Stamp(editor) != context.Principal!.FindFirstValue(StampClaim))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}
