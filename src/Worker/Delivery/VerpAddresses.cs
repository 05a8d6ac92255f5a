using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Subscribers.Tokens;

namespace Newsletter.Worker.Delivery;

/// <summary>What a VERP address says: which publication's message to which subscriber bounced.
/// Zero publication means a message outside any publication (a test send).</summary>
public readonly record struct VerpToken(int PublicationId, int SubscriberId);

/// <summary>
/// Per-recipient envelope senders (<c>bounces+TOKEN@bounces.example.org</c>) and, for bounce
/// processing, the way back from such an address to the publication and subscriber.
/// </summary>
/// <remarks>
/// TOKEN is <c>PUBLICATION-SUBSCRIBER-KEY-MAC</c>: decimal ids, the id of the link-signing key, and 16
/// lower-case base32 characters of HMAC-SHA256 over the rest, so a forged or altered address is recognised
/// and cannot make anyone look like a bouncer. Lower case only, because some servers fold the local part's
/// case; at most about 54 characters, inside the 64 a local part may have. The HMAC key is derived from
/// each link-signing key (<see cref="SigningKeys"/>): it rotates and retires with them, and every instance
/// agrees without another setting. Addresses of before key ids (<c>PUBLICATION-SUBSCRIBER-MAC</c>) are
/// still read while the legacy key is not retired: bounces arrive days after a send.
/// </remarks>
public sealed class VerpAddresses
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const int MacBytes = 10;

    private readonly VerpOptions _options;
    private readonly string _currentId;
    private readonly byte[] _currentKey;
    private readonly Dictionary<string, byte[]> _keys;
    private readonly byte[]? _legacyKey;

    public VerpAddresses(IOptions<MessageOptions> options, LinkTokenSigner signer)
    {
        _options = options.Value.Verp;
        _keys = signer.Keys.Keys.ToDictionary(k => k.Id, k => HMACSHA256.HashData(k.Secret, "newsletter/verp/v2"u8), StringComparer.Ordinal);
        _currentId = signer.Keys.Current.Id;
        _currentKey = _keys[_currentId];
        _legacyKey = signer.Keys.Legacy is { } legacy ? LegacyKey(legacy.Secret) : null;
    }

    /// <summary>The key of before key ids: a v1 link token for subscriber 0 and a purpose-specific label,
    /// never sent to anyone, whose signature only the holder of the secret can compute, hashed.</summary>
    private static byte[] LegacyKey(byte[] secret)
    {
        var payload = "v1|1|0|verp-key-v1|0"u8.ToArray();
        var seed = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, payload));
        return SHA256.HashData(Encoding.ASCII.GetBytes("newsletter/verp/v1|" + seed));
    }

    public bool Enabled => _options.Enabled;

    /// <summary>The envelope sender for one subscriber of one publication; null when VERP is off.</summary>
    public MailboxAddress? For(int publicationId, int subscriberId)
    {
        if (!Enabled)
        {
            return null;
        }
        ArgumentOutOfRangeException.ThrowIfNegative(publicationId);
        ArgumentOutOfRangeException.ThrowIfNegative(subscriberId);
        var ids = $"{publicationId.ToString(CultureInfo.InvariantCulture)}-{subscriberId.ToString(CultureInfo.InvariantCulture)}-{_currentId}";
        return new MailboxAddress("", $"{_options.LocalPart}+{ids}-{Mac(_currentKey, ids)}@{_options.Domain!.Trim().ToLowerInvariant()}");
    }

    /// <summary>
    /// Reads a bounce's recipient (the VERP address it was sent back to). False for anything that is
    /// not one of ours: another local part or domain, a malformed token, or a token whose MAC does not match.
    /// </summary>
    public bool TryParse(string? address, out VerpToken token)
    {
        token = default;
        if (!Enabled || string.IsNullOrWhiteSpace(address) || address.Length > 254)
        {
            return false;
        }
        var trimmed = address.Trim().Trim('<', '>');
        var at = trimmed.LastIndexOf('@');
        if (at <= 0 || !string.Equals(trimmed[(at + 1)..], _options.Domain!.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var local = trimmed[..at].ToLowerInvariant();
        var prefix = _options.LocalPart.ToLowerInvariant() + "+";
        if (!local.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = local[prefix.Length..].Split('-');
        var key = parts.Length switch
        {
            3 => _legacyKey,
            4 => _keys.GetValueOrDefault(parts[2]),
            _ => null,
        };
        if (key is null
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var publicationId)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var subscriberId))
        {
            return false;
        }
        var ids = string.Join('-', parts[..^1]);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(key, ids)), Encoding.ASCII.GetBytes(parts[^1])))
        {
            return false;
        }
        token = new VerpToken(publicationId, subscriberId);
        return true;
    }

    /// <summary>Our VERP shape (local part + token at our domain), whether or not the token verifies: a failed
    /// check on such an address is a forgery or damage, counted apart from addresses that are not ours.</summary>
    public bool LooksLikeOurs(string address)
    {
        if (!Enabled)
        {
            return false;
        }
        var trimmed = address.Trim().Trim('<', '>');
        return trimmed.StartsWith(_options.LocalPart + "+", StringComparison.OrdinalIgnoreCase)
            && trimmed.EndsWith("@" + _options.Domain!.Trim(), StringComparison.OrdinalIgnoreCase);
    }

    private static string Mac(byte[] key, string ids)
    {
        var mac = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(ids));
        // Base32 of the first 10 bytes: exactly 16 characters, no padding.
        var builder = new StringBuilder(16);
        ulong buffer = 0;
        var bits = 0;
        for (var i = 0; i < MacBytes; i++)
        {
            buffer = (buffer << 8) | mac[i];
            bits += 8;
            while (bits >= 5)
            {
                builder.Append(Alphabet[(int)((buffer >> (bits - 5)) & 31)]);
                bits -= 5;
            }
        }
        return builder.ToString();
    }
}
