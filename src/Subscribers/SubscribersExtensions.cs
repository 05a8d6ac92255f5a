using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Newsletter.Subscribers.Export;
using Newsletter.Subscribers.Import;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Maintenance;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Subscribers.Suppressions;

namespace Newsletter.Subscribers;

public static class SubscribersExtensions
{
    /// <summary>
    /// The list's services, working on the host's one <typeparamref name="TContext"/>, and their options
    /// (validated at start). The host provides what the list declares it needs: <see cref="IKnownEditions"/>,
    /// the <see cref="Tokens.LinkTokenSigner"/>, the <see cref="Addresses.AddressHasher"/>, a <see cref="TimeProvider"/>, <see cref="IDeliveryHistory"/>
    /// and, to wake its sender at once, an <see cref="IOutboxSignal"/>.
    /// </summary>
    public static IHostApplicationBuilder AddNewsletterSubscribers<TContext>(this IHostApplicationBuilder builder)
        where TContext : DbContext
    {
        var services = builder.Services;
        services.AddOptions<SubscriberOptions>().BindConfiguration(SubscriberOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        // The list's classes take the base DbContext: they use only Set<T>() and the database facade.
        services.AddScoped<DbContext>(sp => sp.GetRequiredService<TContext>());
        services.AddScoped<SubscriberList>();
        services.AddScoped<SubscriptionService>();
        services.AddScoped<LifecycleOutbox>();
        services.AddScoped<SuppressionList>();
        services.AddScoped<UnconfirmedPurge>();
        services.AddScoped<SubscriberImporter>();
        services.AddScoped<SubscriberExporter>();
        services.AddScoped<PersonalDataService>();
        return builder;
    }
}
