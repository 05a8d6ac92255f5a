using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Delivery;

public static class DeliveryExtensions
{
    /// <summary>The engine, its transport (pickup folder or SMTP, from Delivery:Transport) and the message builder.</summary>
    public static IHostApplicationBuilder AddNewsletterDelivery(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<SmtpTransport>();
        services.AddSingleton<PickupTransport>();
        services.AddSingleton<IMailTransport>(sp => sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.Transport switch
        {
            TransportKind.Smtp => sp.GetRequiredService<SmtpTransport>(),
            _ => sp.GetRequiredService<PickupTransport>(),
        });
        services.AddSingleton<MessageFactory>();
        services.AddSingleton<DeliveryPacer>();
        services.AddSingleton<DeliveryEngine>();
        services.AddScoped<Publishing.PublicationControl>();
        services.AddSingleton<DeliverySignal>();
        return builder;
    }

    /// <summary>The background sender of the running service.</summary>
    public static IHostApplicationBuilder AddNewsletterDeliveryService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<DeliveryService>();
        return builder;
    }
}
