namespace Newsletter.Worker.Bounces;

public static class BouncesExtensions
{
    /// <summary>Reading what comes back (options validated at start), for the service and the command line.</summary>
    public static IHostApplicationBuilder AddNewsletterBounces(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BouncesOptions>().BindConfiguration(BouncesOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<BounceProcessor>();
        services.AddScoped<BounceStatusStore>();
        services.AddSingleton<BounceMailbox>();
        services.AddSingleton<BouncePoller>();
        // The relays' webhooks: SNS signing certificates are cached across requests, so the verifier is shared.
        services.AddSingleton<SnsVerifier>();
        services.AddHttpClient(SnsVerifier.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return builder;
    }

    /// <summary>The mailbox poller of the running service (idle unless Bounces:Protocol is set).</summary>
    public static IHostApplicationBuilder AddNewsletterBouncePoller(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BouncePoller>());
        return builder;
    }
}
