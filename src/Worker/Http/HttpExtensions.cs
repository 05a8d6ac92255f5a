namespace Newsletter.Worker.Http;

public static class HttpExtensions
{
    public static IHostApplicationBuilder AddNewsletterHttp(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        return builder;
    }

    public static WebApplication MapNewsletterEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz");
        app.MapUnsubscribe();
        return app;
    }
}
