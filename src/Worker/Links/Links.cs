using System.Globalization;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Links;

/// <summary>Builds the personal links in emails and pages. They name the reader's random link key, never a
/// row id, and carry their issue time, so revoking a reader's links (<c>Subscriber.LinksRevokedAt</c>) ends them.</summary>
public sealed class LinkBuilder(LinkTokenSigner signer, IOptions<NewsletterOptions> options, TimeProvider time)
{
    /// <summary>The unsubscribe link; with a publication, <c>?p=</c> names the email it came in, so that
    /// issue's results can count the reader's leaving (see <c>PublicationResults.RecordUnsubscribeAsync</c>).</summary>
    public string Unsubscribe(string linkKey, string edition, int? publicationId = null)
    {
        var token = signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, linkKey, edition, Now));
        return publicationId is { } p
            ? string.Create(CultureInfo.InvariantCulture, $"{options.Value.BaseUrl}/unsubscribe/{token}?{PublicationQuery}={p}")
            : $"{options.Value.BaseUrl}/unsubscribe/{token}";
    }

    /// <summary>The unsubscribe link's query parameter naming the publication whose email carried it.</summary>
    public const string PublicationQuery = "p";

    /// <summary>The reader's preferences page (no expiry: it sits in every email; revocable).</summary>
    public string Preferences(string linkKey) => $"{options.Value.BaseUrl}{PreferencesPath(linkKey)}";

    /// <summary>For links on our own pages: relative, so they work whatever address the page was reached by.</summary>
    public string PreferencesPath(string linkKey) => $"/preferences/{PreferencesToken(linkKey)}";

    public string PreferencesToken(string linkKey) => signer.Sign(new LinkToken(TokenPurpose.Preferences, linkKey, "", Now));

    /// <summary>A confirmation link expires, so it carries the time its email was issued.</summary>
    public string ConfirmToken(string linkKey, DateTime issuedAtUtc) => signer.Sign(new LinkToken(
        TokenPurpose.Confirm, linkKey, "", new DateTimeOffset(DateTime.SpecifyKind(issuedAtUtc, DateTimeKind.Utc)).ToUnixTimeSeconds()));

    public LinkTokenSigner Signer => signer;

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();
}

public static class LinkExtensions
{
    public static IHostApplicationBuilder AddNewsletterLinks(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LinkKeyOptions>().BindConfiguration(NewsletterOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LinkKeyOptions>, LinkKeyOptionsValidator>();
        services.AddScoped<StoredKeys>();
        services.AddSingleton(sp => new KeySources(sp));
        services.AddSingleton(sp => sp.GetRequiredService<KeySources>().SigningKeys);
        services.AddSingleton(sp => new LinkTokenSigner(sp.GetRequiredService<SigningKeys>()));
        services.AddSingleton(sp => new AddressHasher(sp.GetRequiredService<KeySources>().AddressHashKey));
        services.AddSingleton<LinkBuilder>();
        // Runs only where the host is started (the service), not in commands.
        services.AddHostedService<StoredKeysWarning>();
        return builder;
    }
}

/// <summary>
/// Where the keys come from: configuration, else the database (read, or generated, on first use).
/// Loaded once per process: keys rotated in the database take effect in processes started after.
/// </summary>
public sealed class KeySources(IServiceProvider services)
{
    private readonly Lazy<(SigningKeys Keys, bool Stored)> _signing = new(() => LoadSigning(services));
    private readonly Lazy<(byte[] Key, bool Stored)> _hash = new(() => LoadHashKey(services));

    public SigningKeys SigningKeys => _signing.Value.Keys;

    public byte[] AddressHashKey => _hash.Value.Key;

    /// <summary>Settings naming the keys that live in the database, for the start-up warning.</summary>
    public IReadOnlyList<string> StoredInDatabase()
    {
        var stored = new List<string>();
        if (_signing.Value.Stored)
        {
            stored.Add($"{NewsletterOptions.Section}:TokenKeys (the link-signing keys)");
        }
        if (_hash.Value.Stored)
        {
            stored.Add($"{NewsletterOptions.Section}:AddressHashKey (the address hash key)");
        }
        return stored;
    }

    private static (SigningKeys, bool) LoadSigning(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value;
        if (options.SigningKeysConfigured)
        {
            return (new SigningKeys(options.ActiveKeys()), false);
        }
        using var scope = services.CreateScope();
        return (scope.ServiceProvider.GetRequiredService<StoredKeys>().LoadOrCreate(), true);
    }

    private static (byte[], bool) LoadHashKey(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value.AddressHashKey;
        if (!string.IsNullOrEmpty(configured))
        {
            return (Convert.FromBase64String(configured), false);
        }
        using var scope = services.CreateScope();
        return (scope.ServiceProvider.GetRequiredService<StoredKeys>().LoadOrCreateAddressHashKey(), true);
    }
}

/// <summary>Says once, at the service's start outside Development, that keys live in the database: any backup
/// or staging copy of it can then forge links for live readers and test guessed addresses against the hashes.</summary>
internal sealed class StoredKeysWarning(KeySources keys, IHostEnvironment environment, ILogger<StoredKeysWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment() && keys.StoredInDatabase() is { Count: > 0 } stored)
        {
            logger.LogWarning(
                "Keys are kept in the database, so any copy of it can forge readers' links: configure {Settings}; 'newsletter keys export' prints the ones kept here as settings, so links already sent keep working",
                string.Join(" and ", stored));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
