using Microsoft.Extensions.Options;
using Newsletter.Subscribers.PersonalData;

namespace Newsletter.Worker.Delivery;

public static class DeliveryExtensions
{
    /// <summary>The engine with its options (Delivery, Smtp, Messages; validated at start), its transport
    /// (pickup folder or SMTP, from Delivery:Transport), the message builder (DKIM, VERP) and the send controls.</summary>
    public static IHostApplicationBuilder AddNewsletterDelivery(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageOptions>().BindConfiguration(MessageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MessageOptions>, MessageOptionsValidator>();
        services.AddSingleton<DkimSigning>();
        services.AddSingleton<VerpAddresses>();
        services.AddSingleton<SmtpTransport>();
        services.AddSingleton<PickupTransport>();
        services.AddSingleton<PickupRetention>();
        services.AddSingleton<IMailTransport>(sp => sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.Transport switch
        {
            TransportKind.Smtp => sp.GetRequiredService<SmtpTransport>(),
            _ => sp.GetRequiredService<PickupTransport>(),
        });
        services.AddSingleton<MessageFactory>();
        services.AddSingleton<DeliveryPacer>();
        services.AddSingleton<DeliveryEngine>();
        services.AddSingleton<DeliveryWrites>();
        services.AddMetrics().AddSingleton<NewsletterMetrics>();
        services.AddScoped<PublicationControl>();
        services.AddScoped<IDeliveryHistory, DeliveryHistory>();
        services.AddScoped<DeliveryCompaction>();
        services.AddSingleton<DeliverySignal>();
        return builder;
    }

    /// <summary>The background sender of the running service, and the pickup folder's clean-up.</summary>
    public static IHostApplicationBuilder AddNewsletterDeliveryService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<DeliveryService>();
        builder.Services.AddHostedService<PickupRetentionService>();
        return builder;
    }
}
