using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Links;

namespace Newsletter.Worker.SignupEmails;

/// <summary>The signed links of the subscriber lifecycle: confirm (expires, so it carries its
/// issue time), preferences and unsubscribe (never expire: they sit in every email).</summary>
public sealed class SubscriberLinks(LinkTokenSigner signer, LinkBuilder links, IOptions<NewsletterOptions> options)
{
    public string ConfirmToken(int subscriberId, DateTime issuedAtUtc) => signer.Sign(new LinkToken(
        TokenPurpose.Confirm, subscriberId, "", new DateTimeOffset(DateTime.SpecifyKind(issuedAtUtc, DateTimeKind.Utc)).ToUnixTimeSeconds()));

    public string PreferencesToken(int subscriberId) => links.PreferencesToken(subscriberId);

    public string Confirm(int subscriberId, DateTime issuedAtUtc) => $"{options.Value.BaseUrl}/confirm/{ConfirmToken(subscriberId, issuedAtUtc)}";

    public string Preferences(int subscriberId) => links.Preferences(subscriberId);

    /// <summary>For links on our own pages: relative, so they work whatever address the page was reached by.</summary>
    public string PreferencesPath(int subscriberId) => links.PreferencesPath(subscriberId);
}
