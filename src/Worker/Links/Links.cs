using System.Globalization;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Links;

/// <summary>Builds the personal links in emails and pages.</summary>
public sealed class LinkBuilder(LinkTokenSigner signer, IOptions<NewsletterOptions> options)
{
    /// <summary>The unsubscribe link; with a publication, <c>?p=</c> names the email it came in, so that
    /// issue's results can count the reader's leaving (see <c>PublicationResults.RecordUnsubscribeAsync</c>).</summary>
    public string Unsubscribe(int subscriberId, string edition, int? publicationId = null)
    {
        var token = signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, subscriberId, edition));
        return publicationId is { } p
            ? string.Create(CultureInfo.InvariantCulture, $"{options.Value.BaseUrl}/unsubscribe/{token}?{PublicationQuery}={p}")
            : $"{options.Value.BaseUrl}/unsubscribe/{token}";
    }

    /// <summary>The unsubscribe link's query parameter naming the publication whose email carried it.</summary>
    public const string PublicationQuery = "p";

    /// <summary>The subscriber's preferences page (never expires: it sits in every email).</summary>
    public string Preferences(int subscriberId) => $"{options.Value.BaseUrl}{PreferencesPath(subscriberId)}";

    /// <summary>For links on our own pages: relative, so they work whatever address the page was reached by.</summary>
    public string PreferencesPath(int subscriberId) => $"/preferences/{PreferencesToken(subscriberId)}";

    public string PreferencesToken(int subscriberId) => signer.Sign(new LinkToken(TokenPurpose.Preferences, subscriberId, ""));

    public LinkTokenSigner Signer => signer;
}

public static class LinkExtensions
{
    internal const string TokenSecretSettingKey = "token-secret";

    public static IHostApplicationBuilder AddNewsletterLinks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new LinkTokenSigner(LoadOrCreateSecret(sp)));
        builder.Services.AddSingleton<LinkBuilder>();
        return builder;
    }

    /// <summary>
    /// The configured secret, else the one kept in the database, else a new one stored there.
    /// Kept in the database (not a local file) so every instance sharing it signs alike.
    /// </summary>
    private static byte[] LoadOrCreateSecret(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<NewsletterOptions>>().Value.TokenSecret;
        if (!string.IsNullOrEmpty(configured))
        {
            return Convert.FromBase64String(configured);
        }
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
        var stored = db.Settings.AsNoTracking().FirstOrDefault(s => s.Key == TokenSecretSettingKey);
        if (stored is null)
        {
            db.Settings.Add(new Setting
            {
                Key = TokenSecretSettingKey,
                Value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            });
            try
            {
                db.SaveChanges();
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LinkExtensions))
                    .LogInformation("Generated the link-signing secret and stored it in the database");
            }
            catch (DbUpdateException)
            {
                // Another instance stored one first; use theirs.
                db.ChangeTracker.Clear();
            }
            stored = db.Settings.AsNoTracking().First(s => s.Key == TokenSecretSettingKey);
        }
        return Convert.FromBase64String(stored.Value);
    }
}
