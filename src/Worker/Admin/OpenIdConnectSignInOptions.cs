using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Admin;

/// <summary>Signing in to the workspace through an OpenID Connect provider, off unless Authority and ClientId are set.
/// The provider only vouches for an address: the editor's account must already exist.</summary>
public sealed class OpenIdConnectSignInOptions
{
    public const string Section = "Editors:OpenIdConnect";

    /// <summary>The provider's issuer address; its discovery document is read from there.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>Kept in the service's environment or user secrets, never in appsettings.json.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The sign-in button's text.</summary>
    public string DisplayName { get; set; } = "Sign in with single sign-on";

    /// <summary>Refuse a provider reached over plain http (turn off only for a provider on this machine).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}

/// <summary>Errors name the key, as the other settings' do, so the start's one-line report says what to fix.</summary>
internal sealed class OpenIdConnectSignInOptionsValidator : IValidateOptions<OpenIdConnectSignInOptions>
{
    private const string Key = OpenIdConnectSignInOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, OpenIdConnectSignInOptions options)
    {
        var authority = !string.IsNullOrWhiteSpace(options.Authority);
        var client = !string.IsNullOrWhiteSpace(options.ClientId);
        if (authority != client)
        {
            // Half a configuration is a mistake, not a wish to keep single sign-on off.
            return ValidateOptionsResult.Fail(authority
                ? $"{Key}ClientId: is required when {Key}Authority is set (the client id the provider gave the newsletter)"
                : $"{Key}Authority: is required when {Key}ClientId is set (the provider's issuer address, e.g. https://login.example.org/realms/newsletter)");
        }
        if (!authority)
        {
            return ValidateOptionsResult.Success;
        }
        if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return ValidateOptionsResult.Fail($"{Key}Authority: '{options.Authority}' is not an absolute http(s) address (e.g. https://login.example.org/realms/newsletter)");
        }
        if (options.RequireHttpsMetadata && uri.Scheme != Uri.UriSchemeHttps)
        {
            return ValidateOptionsResult.Fail($"{Key}Authority: '{options.Authority}' must use https (or set {Key}RequireHttpsMetadata to false for a provider on this machine)");
        }
        if (string.IsNullOrWhiteSpace(options.DisplayName))
        {
            return ValidateOptionsResult.Fail($"{Key}DisplayName: must not be empty (the sign-in button's text)");
        }
        return ValidateOptionsResult.Success;
    }
}
