using Microsoft.Extensions.Options;
using Newsletter.Subscribers;
using Newsletter.Subscribers.Export;
using Newsletter.Subscribers.Import;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Maintenance;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Subscribers.Suppressions;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Subscribers;

public static class SubscribersExtensions
{
    /// <summary>The Subscribers module's services on the host's one DbContext, its options, the
    /// sign-up emails' outbox and mailer (whose background sender the web host adds with
    /// <see cref="AddNewsletterLifecycleMailer"/>; without it, emails written to the outbox wait
    /// for the next process that runs one).</summary>
    public static IHostApplicationBuilder AddNewsletterSubscribers(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SubscriberOptions>().BindConfiguration(SubscriberOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddScoped(sp => new SubscriptionService(
            sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<IKnownEditions>(), sp.GetRequiredService<LinkTokenSigner>(),
            sp.GetRequiredService<IOptions<SubscriberOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<LifecycleEmailSignal>()));
        services.AddScoped(sp => new LifecycleOutbox(
            sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<IOptions<SubscriberOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddScoped(sp => new SuppressionList(sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<TimeProvider>()));
        services.AddScoped(sp => new UnconfirmedPurge(
            sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<IOptions<SubscriberOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddScoped(sp => new SubscriberImporter(
            sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<IKnownEditions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddScoped(sp => new SubscriberExporter(sp.GetRequiredService<NewsletterDbContext>()));
        services.AddScoped<IDeliveryHistory, DeliveryHistory>();
        services.AddScoped(sp => new PersonalDataService(
            sp.GetRequiredService<NewsletterDbContext>(), sp.GetRequiredService<SuppressionList>(),
            sp.GetRequiredService<IDeliveryHistory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SubscriberLinks>();
        services.AddSingleton<LifecycleEmailSignal>();
        services.AddSingleton<LifecycleMailer>();
        return builder;
    }

    /// <summary>Sends the sign-up emails in the outbox (the running service only).</summary>
    public static IHostApplicationBuilder AddNewsletterLifecycleMailer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<LifecycleMailerService>();
        return builder;
    }
}
