using Newsletter.Worker.Archive;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.SignupEmails;

namespace Newsletter.Worker.Http;

public static class HttpExtensions
{
    public static IHostApplicationBuilder AddNewsletterHttp(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddNewsletterRateLimits();
        builder.AddNewsletterReverseProxy();
        builder.AddNewsletterLifecycleMailer();
        builder.Services.AddHostedService<PublicUrlCheck>();
        return builder;
    }

    public static WebApplication MapNewsletterEndpoints(this WebApplication app)
    {
        app.UseNewsletterReverseProxy();
        app.UseRouting();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.MapSubscribe();
        app.MapConfirm();
        app.MapPreferences();
        app.MapUnsubscribe();
        app.MapArchive().RequireRateLimiting(PublicRateLimits.Links);
        app.MapBounceWebhooks();
        return app;
    }
}
