using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Links;

namespace Newsletter.Worker.SignupEmails;

/// <summary>The signed links of the subscriber lifecycle: confirm (expires, so it carries its
/// issue time), preferences and unsubscribe (no expiry: they sit in every email; revocable).</summary>
public sealed class SubscriberLinks(LinkBuilder links, IOptions<NewsletterOptions> options)
{
    public string ConfirmToken(string linkKey, DateTime issuedAtUtc) => links.ConfirmToken(linkKey, issuedAtUtc);

    public string PreferencesToken(string linkKey) => links.PreferencesToken(linkKey);

    public string Confirm(string linkKey, DateTime issuedAtUtc) => $"{options.Value.BaseUrl}/confirm/{ConfirmToken(linkKey, issuedAtUtc)}";

    public string Preferences(string linkKey) => links.Preferences(linkKey);

    /// <summary>For links on our own pages: relative, so they work whatever address the page was reached by.</summary>
    public string PreferencesPath(string linkKey) => links.PreferencesPath(linkKey);
}
