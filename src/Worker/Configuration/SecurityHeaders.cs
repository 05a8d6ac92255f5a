namespace Newsletter.Worker.Configuration;

/// <summary>
/// The headers every response carries, the public pages and the workspace alike: a Content-Security-Policy,
/// <c>nosniff</c>, no referrer, no framing. A response that set its own policy (the workspace's email preview)
/// keeps it. Shared by the public side and the workspace, which may not use each other.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>Scripts only from files of this site, never inline. Styles may be inline: every page carries its
    /// own <c>&lt;style&gt;</c>, and an archived issue is email HTML with its CSS inlined and its images anywhere.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseNewsletterSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Set as the response starts, so error pages (which clear the headers first) carry them too.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.TryAdd("Content-Security-Policy", ContentSecurityPolicy);
            headers.TryAdd("X-Frame-Options", "DENY");
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return Task.CompletedTask;
        });
        return next(context);
    });

    /// <summary>For pages that show a reader's address: neither a proxy nor the browser's cache may keep them.</summary>
    public static TBuilder NoStore<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return result;
        });
}
