using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Templates;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Archive;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Links;
using Newsletter.Worker.Publishing;
using Newsletter.Worker.SignupEmails;

namespace Newsletter.Worker;

public static class NewsletterHost
{
    /// <summary>What both the service and the command line need: options, the database, links,
    /// editions, templates, delivery, the subscriber list and the features built on them.</summary>
    public static IHostApplicationBuilder AddNewsletterCore(this IHostApplicationBuilder builder)
    {
        builder.AddNewsletterOptions();
        builder.AddNewsletterData();
        builder.AddNewsletterLinks();
        builder.AddNewsletterEditions();
        builder.Services.AddNewsletterTemplates();
        builder.AddNewsletterDelivery();
        builder.AddNewsletterSignupEmails();
        builder.AddNewsletterIssues();
        builder.AddNewsletterPublishing();
        builder.AddNewsletterEditors();
        builder.AddNewsletterBounces();
        return builder;
    }

    /// <summary>Before anything runs: the database is migrated (and its location logged), address hashes stored
    /// before the hash was keyed are converted (once), and issues published
    /// before the archive existed are given their archive address. With
    /// <paramref name="warmUpTemplates"/> the email templates are compiled in the background (about a
    /// second), so the pages answer meanwhile; the first render waits for them.</summary>
    public static async Task PrepareNewsletterAsync(this IServiceProvider services, bool warmUpTemplates, CancellationToken cancellationToken = default)
    {
        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DatabasePreparer>().PrepareAsync(cancellationToken);
            await AddressHashUpgrade.RunAsync(scope.ServiceProvider.GetRequiredService<NewsletterDbContext>(),
                services.GetRequiredService<AddressHasher>(), cancellationToken);
            await ArchiveKeys.BackfillAsync(scope.ServiceProvider.GetRequiredService<NewsletterDbContext>(),
                scope.ServiceProvider.GetRequiredService<IOptions<EditionsOptions>>().Value, cancellationToken);
        }
        if (warmUpTemplates)
        {
            var renderer = services.GetRequiredService<IEmailRenderer>();
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NewsletterHost));
            _ = Task.Run(async () =>
            {
                try
                {
                    await renderer.WarmUpAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The first render meets the same failure and reports it where it matters.
                    logger.LogError(ex, "Compiling the email templates failed");
                }
            }, CancellationToken.None);
        }
    }
}
