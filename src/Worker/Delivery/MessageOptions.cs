using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// What every message carries beyond its content: the optional headers mailbox providers look for,
/// DKIM signing and VERP envelope senders. Bound from the <c>Messages</c> section; everything is
/// optional and off by default.
/// </summary>
public sealed class MessageOptions
{
    public const string Section = "Messages";

    /// <summary>Reply-To header, e.g. <c>Steady Ground &lt;hello@example.org&gt;</c>. None when empty.</summary>
    public string? ReplyTo { get; set; }

    /// <summary>An address that unsubscribes whoever writes to it (e.g. <c>unsubscribe@example.org</c>).
    /// When set, List-Unsubscribe offers it beside the https link, as
    /// <c>mailto:ADDRESS?subject=unsubscribe%20EDITION</c>; the sender of that mail is the subscriber.</summary>
    public string? UnsubscribeMailto { get; set; }

    /// <summary>The sender id of Gmail's Feedback-ID header (the last field): letters, digits, dots,
    /// dashes. When set, each message carries <c>Feedback-ID: EDITION:newsletter:SENDERID</c>.</summary>
    public string? FeedbackIdSender { get; set; }

    public DkimOptions Dkim { get; set; } = new();

    public VerpOptions Verp { get; set; } = new();
}

/// <summary>
/// DKIM signing (rsa-sha256, relaxed/relaxed). On when <see cref="Domain"/> is set; then the selector
/// and exactly one of <see cref="PrivateKeyPath"/> or <see cref="PrivateKey"/> are required.
/// </summary>
public sealed class DkimOptions
{
    /// <summary>The signing domain (<c>d=</c>), normally the From address's domain.</summary>
    public string? Domain { get; set; }

    /// <summary>The selector (<c>s=</c>): the public key is published at <c>SELECTOR._domainkey.DOMAIN</c>.</summary>
    public string? Selector { get; set; }

    /// <summary>A PEM file holding the RSA private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY").</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The PEM text itself, for keys kept in a secret store or an environment variable
    /// (<c>Messages__Dkim__PrivateKey</c>); literal <c>\n</c> sequences are read as line breaks.</summary>
    public string? PrivateKey { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Domain);
}

/// <summary>
/// VERP: each message's envelope sender is <c>LOCALPART+TOKEN@DOMAIN</c>, where the token names the
/// publication and subscriber and is signed, so a bounce says who bounced without reading its body.
/// On when <see cref="Domain"/> is set. The domain's MX must deliver those addresses to the bounce mailbox.
/// </summary>
public sealed class VerpOptions
{
    public string? Domain { get; set; }

    public string LocalPart { get; set; } = "bounces";

    public bool Enabled => !string.IsNullOrWhiteSpace(Domain);
}

internal sealed partial class MessageOptionsValidator : IValidateOptions<MessageOptions>
{
    public ValidateOptionsResult Validate(string? name, MessageOptions o)
    {
        var errors = new List<string>();
        const string at = MessageOptions.Section;
        if (!string.IsNullOrWhiteSpace(o.ReplyTo)
            && (HasControl(o.ReplyTo) || !MailboxAddress.TryParse(o.ReplyTo, out var replyTo) || !replyTo.Address.Contains('@', StringComparison.Ordinal)))
        {
            errors.Add($"{at}:ReplyTo: '{o.ReplyTo}' is not an address (e.g. 'Steady Ground <hello@example.org>')");
        }
        if (!string.IsNullOrWhiteSpace(o.UnsubscribeMailto) && !AddrSpec().IsMatch(o.UnsubscribeMailto))
        {
            errors.Add($"{at}:UnsubscribeMailto: '{o.UnsubscribeMailto}' is not a plain address (e.g. unsubscribe@example.org)");
        }
        if (!string.IsNullOrWhiteSpace(o.FeedbackIdSender) && !Atom().IsMatch(o.FeedbackIdSender))
        {
            errors.Add($"{at}:FeedbackIdSender: '{o.FeedbackIdSender}' may hold only letters, digits, dots and dashes");
        }

        var d = o.Dkim;
        var anyDkim = d.Enabled || !string.IsNullOrWhiteSpace(d.Selector)
            || !string.IsNullOrWhiteSpace(d.PrivateKeyPath) || !string.IsNullOrWhiteSpace(d.PrivateKey);
        if (anyDkim)
        {
            if (!d.Enabled || !HostName().IsMatch(d.Domain!))
            {
                errors.Add($"{at}:Dkim:Domain: DKIM needs the signing domain (e.g. example.org){(d.Enabled ? $", not '{d.Domain}'" : "")}");
            }
            if (string.IsNullOrWhiteSpace(d.Selector) || !HostName().IsMatch(d.Selector))
            {
                errors.Add($"{at}:Dkim:Selector: DKIM needs a selector (e.g. newsletter2026){(string.IsNullOrWhiteSpace(d.Selector) ? "" : $", not '{d.Selector}'")}");
            }
            var hasPath = !string.IsNullOrWhiteSpace(d.PrivateKeyPath);
            var hasPem = !string.IsNullOrWhiteSpace(d.PrivateKey);
            if (hasPath == hasPem)
            {
                errors.Add($"{at}:Dkim:PrivateKeyPath: give the private key either as a PEM file (Messages:Dkim:PrivateKeyPath) or as PEM text (Messages:Dkim:PrivateKey), not {(hasPath ? "both" : "neither")}");
            }
            else if (DkimKey.TryLoad(d, out _, out var problem) is false)
            {
                errors.Add($"{at}:Dkim:{(hasPath ? "PrivateKeyPath" : "PrivateKey")}: {problem}");
            }
        }

        var v = o.Verp;
        if (v.Enabled && !HostName().IsMatch(v.Domain!))
        {
            errors.Add($"{at}:Verp:Domain: '{v.Domain}' is not a domain name (e.g. bounces.example.org)");
        }
        if (v.Enabled && !LocalPart().IsMatch(v.LocalPart ?? ""))
        {
            errors.Add($"{at}:Verp:LocalPart: '{v.LocalPart}' must be letters, digits, dots or dashes (e.g. bounces)");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool HasControl(string value) => value.Any(char.IsControl);

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*$")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^[A-Za-z0-9.-]{1,64}$")]
    private static partial Regex Atom();

    [GeneratedRegex(@"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,40}[A-Za-z0-9])?$")]
    private static partial Regex LocalPart();

    [GeneratedRegex(@"^[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")]
    private static partial Regex AddrSpec();
}
