using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Links;

/// <summary>
/// The secrets behind links, bounce addresses and the address hash, in the <c>Newsletter</c> section.
/// Whatever is not configured is generated into the database on first use (and the service warns).
/// </summary>
public sealed class LinkKeyOptions
{
    /// <summary>Base64 secret (32+ bytes) of before key ids: the key <c>legacy</c>. It checks links already
    /// sent, and signs new ones while no <see cref="TokenKeys"/> are configured.</summary>
    public string? TokenSecret { get; set; }

    /// <summary>Signing keys, oldest first; the newest not retired signs new links.</summary>
    public List<TokenKeyOptions> TokenKeys { get; set; } = [];

    /// <summary>Base64 key (32+ bytes) of the keyed address hash that suppressions are matched on.
    /// It cannot change once hashes are stored with it.</summary>
    public string? AddressHashKey { get; set; }

    /// <summary>Whether any signing key is configured; if so, none are read from the database.</summary>
    public bool SigningKeysConfigured => !string.IsNullOrEmpty(TokenSecret) || TokenKeys.Count > 0;

    /// <summary>The configured keys, oldest first, retired ones left out.</summary>
    public IEnumerable<SigningKey> ActiveKeys()
    {
        if (!string.IsNullOrEmpty(TokenSecret))
        {
            yield return new SigningKey(SigningKeys.LegacyId, Convert.FromBase64String(TokenSecret));
        }
        foreach (var key in TokenKeys.Where(k => !k.Retired))
        {
            yield return new SigningKey(key.Id!, Convert.FromBase64String(key.Secret!));
        }
    }

    internal static bool IsSecret(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        var bytes = new byte[value.Length];
        return Convert.TryFromBase64String(value, bytes, out var length) && length >= 32;
    }
}

public sealed class TokenKeyOptions
{
    /// <summary>1 to 8 lower-case letters and digits: it goes into every link and bounce address.</summary>
    public string? Id { get; set; }

    /// <summary>Base64 of 32+ random bytes.</summary>
    public string? Secret { get; set; }

    /// <summary>Links it signed are refused from now on.</summary>
    public bool Retired { get; set; }
}

internal sealed class LinkKeyOptionsValidator : IValidateOptions<LinkKeyOptions>
{
    private const string At = NewsletterOptions.Section;
    private const string Generate = "(e.g. `openssl rand -base64 48`)";

    public ValidateOptionsResult Validate(string? name, LinkKeyOptions o)
    {
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(o.TokenSecret) && !LinkKeyOptions.IsSecret(o.TokenSecret))
        {
            errors.Add($"{At}:TokenSecret: must be base64 of at least 32 random bytes {Generate}");
        }
        if (!string.IsNullOrEmpty(o.AddressHashKey) && !LinkKeyOptions.IsSecret(o.AddressHashKey))
        {
            errors.Add($"{At}:AddressHashKey: must be base64 of at least 32 random bytes {Generate}");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < o.TokenKeys.Count; i++)
        {
            var key = o.TokenKeys[i];
            var at = $"{At}:TokenKeys:{i}";
            if (!SigningKeys.IsValidId(key.Id))
            {
                errors.Add($"{at}:Id: '{key.Id}' must be 1 to 8 lower-case letters and digits");
            }
            else if (key.Id == SigningKeys.LegacyId)
            {
                errors.Add($"{at}:Id: 'legacy' is the key of {At}:TokenSecret; give this key another id");
            }
            else if (!seen.Add(key.Id!))
            {
                errors.Add($"{at}:Id: '{key.Id}' is used by an earlier key; every key needs its own id");
            }
            if (!LinkKeyOptions.IsSecret(key.Secret))
            {
                errors.Add($"{at}:Secret: must be base64 of at least 32 random bytes {Generate}");
            }
        }
        if (o.TokenKeys.Count > 0 && string.IsNullOrEmpty(o.TokenSecret) && o.TokenKeys.All(k => k.Retired))
        {
            errors.Add($"{At}:TokenKeys: every key is retired; add a new one to sign links with (newsletter keys rotate prints one)");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
