using System.Buffers.Text;
using System.Globalization;
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
    /// <see cref="LinkToken.Subject"/> carries the id, its <see cref="LinkToken.Edition"/> the edition.</summary>
    WebView = 4,
}

/// <summary>
/// The facts a token carries: what it is for, whom (a reader's link key, or an issue's id), the edition
/// (empty when the purpose has none) and when it was issued. <see cref="Edition"/> and <see cref="Subject"/> never contain '|'.
/// </summary>
public sealed record LinkToken(TokenPurpose Purpose, string Subject, string Edition, long IssuedAtUnixSeconds = 0)
{
    public LinkToken(TokenPurpose purpose, int id, string edition, long issuedAtUnixSeconds = 0)
        : this(purpose, id.ToString(CultureInfo.InvariantCulture), edition, issuedAtUnixSeconds)
    {
    }

    /// <summary>A token of before key ids: its subject is a subscriber's row id, not a link key.</summary>
    public bool NamesRowId { get; init; }

    /// <summary>The subject as a number (a row id, an issue id); null when it is not one.</summary>
    public int? Id => int.TryParse(Subject, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
}

/// <summary>
/// Signs and checks the tokens in links (unsubscribe, confirm, preferences). A token is
/// <c>base64url(payload).base64url(HMAC-SHA256(key, payload))</c>; the payload is plain text naming the
/// key that signed it (<c>v2|key|purpose|subject|edition|issuedAt</c>), so keys can be rotated: new tokens
/// are signed with the newest key, older ones are checked with theirs until it is retired. Tokens of the
/// first format (<c>v1|…</c>, no key id) are checked with the legacy key. Signatures are compared in constant time.
/// </summary>
public sealed class LinkTokenSigner
{
    private const string Version = "v2";
    private const string LegacyVersion = "v1";
    private readonly SigningKeys _keys;

    public LinkTokenSigner(SigningKeys keys) => _keys = keys;

    /// <summary>A signer with one key, the single secret of before key ids.</summary>
    public LinkTokenSigner(byte[] secret)
        : this(SigningKeys.Single(secret))
    {
    }

    public SigningKeys Keys => _keys;

    public string Sign(LinkToken token)
    {
        if (token.Edition.Contains('|', StringComparison.Ordinal) || token.Subject.Contains('|', StringComparison.Ordinal))
        {
            throw new ArgumentException("An edition key or subject cannot contain '|'.", nameof(token));
        }
        var key = _keys.Current;
        var payload = Encoding.UTF8.GetBytes(
            $"{Version}|{key.Id}|{(int)token.Purpose}|{token.Subject}|{token.Edition}|{token.IssuedAtUnixSeconds}");
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(key.Secret, payload));
    }

    /// <summary>Checks a token for the expected purpose. Anything malformed, truncated, forged, signed with
    /// an unknown or retired key, or issued for another purpose yields false.</summary>
    public bool TryVerify(string? token, TokenPurpose expectedPurpose, out LinkToken verified)
    {
        verified = new LinkToken(expectedPurpose, "", "");
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
        string[] parts;
        try
        {
            parts = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload).Split('|');
        }
        catch (ArgumentException)
        {
            return false;
        }
        // The key is chosen from the unchecked payload; the signature check below then covers the choice too.
        SigningKey? key = parts switch
        {
            [Version, var id, _, _, _, _] => _keys.TryGet(id, out var named) ? named : null,
            [LegacyVersion, _, _, _, _] => _keys.Legacy,
            _ => null,
        };
        if (key is null || !CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key.Secret, payload), signature))
        {
            return false;
        }
        var legacy = parts[0] == LegacyVersion;
        var fields = legacy ? parts[1..] : parts[2..];
        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var purpose) || purpose != (int)expectedPurpose
            || fields[1].Length == 0
            || (legacy && !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var issuedAt))
        {
            return false;
        }
        verified = new LinkToken(expectedPurpose, fields[1], fields[2], issuedAt) { NamesRowId = legacy };
        return true;
    }
}
