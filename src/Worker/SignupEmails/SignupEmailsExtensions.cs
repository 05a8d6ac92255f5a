using Newsletter.Subscribers;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.SignupEmails;

public static class SignupEmailsExtensions
{
    /// <summary>The Subscribers module on the host's one DbContext, plus the host's side of it: the
    /// links in sign-up emails and the mailer that sends them from the outbox (its background sender
    /// is added by the web host with <see cref="AddNewsletterLifecycleMailer"/>; without it, emails
    /// written to the outbox wait for the next process that runs one).</summary>
    public static IHostApplicationBuilder AddNewsletterSignupEmails(this IHostApplicationBuilder builder)
    {
        builder.AddNewsletterSubscribers<NewsletterDbContext>();
        var services = builder.Services;
        services.AddSingleton<SubscriberLinks>();
        services.AddSingleton<LifecycleEmailSignal>();
        services.AddSingleton<IOutboxSignal>(sp => sp.GetRequiredService<LifecycleEmailSignal>());
        services.AddSingleton<LifecycleMailer>();
        services.AddSingleton<WelcomeContent>();
        return builder;
    }

    /// <summary>Sends the sign-up emails in the outbox (the running service only).</summary>
    public static IHostApplicationBuilder AddNewsletterLifecycleMailer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<LifecycleMailerService>();
        return builder;
    }
}
