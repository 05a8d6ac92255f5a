using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Newsletter.Subscribers.Tokens;

/// <summary>What a signed link lets its holder do.</summary>
public enum TokenPurpose
{
    Unsubscribe = 1,
    Confirm = 2,
    Preferences = 3,

    /// <summary>Reading one issue kept out of the public archive on the web. Not personal: the token's
    /// <see cref="LinkToken.SubscriberId"/> carries the id, its <see cref="LinkToken.Edition"/> the edition.</summary>
    WebView = 4,
}

/// <summary>The facts a token carries; <see cref="Edition"/> is empty when the purpose has none.</summary>
public sealed record LinkToken(TokenPurpose Purpose, int SubscriberId, string Edition, long IssuedAtUnixSeconds = 0);

/// <summary>
/// Signs and checks the tokens in links (unsubscribe, confirm, preferences). A token is
/// <c>base64url(payload).base64url(HMAC-SHA256(secret, payload))</c>; the payload is plain
/// text, so a token reveals the subscriber id it was issued for but cannot be forged or altered
/// without the secret. Signatures are compared in constant time.
/// </summary>
public sealed class LinkTokenSigner
{
    private const string Version = "v1";
    private readonly byte[] _secret;

    public LinkTokenSigner(byte[] secret)
    {
        if (secret.Length < 32)
        {
            throw new ArgumentException("The token secret must be at least 32 bytes.", nameof(secret));
        }
        _secret = secret;
    }

    public string Sign(LinkToken token)
    {
        if (token.Edition.Contains('|', StringComparison.Ordinal))
        {
            throw new ArgumentException("An edition key cannot contain '|'.", nameof(token));
        }
        var payload = Encoding.UTF8.GetBytes(
            $"{Version}|{(int)token.Purpose}|{token.SubscriberId}|{token.Edition}|{token.IssuedAtUnixSeconds}");
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_secret, payload));
    }

    /// <summary>Checks a token for the expected purpose. Anything malformed, truncated, forged or
    /// issued for another purpose yields false.</summary>
    public bool TryVerify(string? token, TokenPurpose expectedPurpose, out LinkToken verified)
    {
        verified = new LinkToken(expectedPurpose, 0, "");
        if (string.IsNullOrEmpty(token) || token.Length > 512)
        {
            return false;
        }
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1)
        {
            return false;
        }
        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = HMACSHA256.HashData(_secret, payload);
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            return false;
        }
        var parts = Encoding.UTF8.GetString(payload).Split('|');
        if (parts.Length != 5 || parts[0] != Version
            || !int.TryParse(parts[1], out var purpose) || purpose != (int)expectedPurpose
            || !int.TryParse(parts[2], out var subscriberId)
            || !long.TryParse(parts[4], out var issuedAt))
        {
            return false;
        }
        verified = new LinkToken(expectedPurpose, subscriberId, parts[3], issuedAt);
        return true;
    }
}
