using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Http;

/// <summary>
/// Per-IP fixed-window limits on the public endpoints (ASP.NET Core's rate limiter). Two policies:
/// <see cref="Subscribe"/> for the requests that can send an email (strict), <see cref="Links"/> for
/// pages and link actions (generous: mail providers send one-click unsubscribes for many readers
/// from few addresses), per IPv4 address or IPv6 /64. Behind a reverse proxy, name it in <see cref="ReverseProxyOptions"/>.
/// </summary>
public static class PublicRateLimits
{
    public const string Subscribe = "subscribe";
    public const string Links = "links";

    public static IServiceCollection AddNewsletterRateLimits(this IServiceCollection services) => services.AddRateLimiter(o =>
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.AddPolicy(Subscribe, context =>
        {
            var limits = Limits(context);
            return RateLimitPartition.GetFixedWindowLimiter(ClientKey(context), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limits.SubscribePermitLimit, Window = limits.SubscribeWindow, QueueLimit = 0,
            });
        });
        o.AddPolicy(Links, context =>
        {
            var limits = Limits(context);
            return RateLimitPartition.GetFixedWindowLimiter(ClientKey(context), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limits.LinksPermitLimit, Window = limits.LinksWindow, QueueLimit = 0,
            });
        });
        o.OnRejected = async (rejected, cancellationToken) =>
        {
            var http = rejected.HttpContext;
            var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            var minutes = Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes));
            var when = minutes == 1 ? "a minute" : $"{minutes} minutes";
            IResult answer = PublicRequest.WantsJson(http.Request)
                ? TypedResults.Problem(
                    detail: $"Too many requests from this address. Please try again in {when}; nothing was changed.",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests")
                : Page.Html("Please slow down a little", $"""
                    <h1>Please slow down a little</h1>
                    <p>We've had a lot of requests from your connection in a short time, so we're pausing for a moment. Nothing was changed.</p>
                    <p>Please try again in {when}.</p>
                    """, http.RequestServices.GetRequiredService<IOptions<NewsletterOptions>>().Value.Name, StatusCodes.Status429TooManyRequests);
            await answer.ExecuteAsync(http);
        };
    });

    private static RateLimitOptions Limits(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<SubscriberOptions>>().Value.RateLimit;

    private static string ClientKey(HttpContext context) => ClientAddresses.Partition(context.Connection.RemoteIpAddress);
}
