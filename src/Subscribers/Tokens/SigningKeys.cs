using System.Text.RegularExpressions;

namespace Newsletter.Subscribers.Tokens;

/// <summary>One secret that signs links, named by an id that every token it signs carries.</summary>
public sealed record SigningKey(string Id, byte[] Secret);

/// <summary>
/// The keys links are checked with, oldest first; the newest signs. Retired keys are simply not here,
/// so what they signed is refused. The key named <see cref="LegacyId"/> is the single secret of before
/// key ids: it alone also checks tokens of the first format, which name no key.
/// </summary>
public sealed partial class SigningKeys
{
    public const string LegacyId = "legacy";

    private readonly Dictionary<string, SigningKey> _byId;

    public SigningKeys(IEnumerable<SigningKey> oldestFirst)
    {
        Keys = [.. oldestFirst];
        if (Keys.Count == 0)
        {
            throw new ArgumentException("At least one signing key is needed.", nameof(oldestFirst));
        }
        foreach (var key in Keys)
        {
            if (!IsValidId(key.Id))
            {
                throw new ArgumentException($"'{key.Id}' is not a key id: 1 to 8 lower-case letters and digits.", nameof(oldestFirst));
            }
            if (key.Secret.Length < 32)
            {
                throw new ArgumentException($"Key '{key.Id}' must be at least 32 bytes.", nameof(oldestFirst));
            }
        }
        _byId = Keys.ToDictionary(k => k.Id, StringComparer.Ordinal);
    }

    /// <summary>One key, as the single secret of before.</summary>
    public static SigningKeys Single(byte[] secret) => new([new SigningKey(LegacyId, secret)]);

    public IReadOnlyList<SigningKey> Keys { get; }

    /// <summary>The key new tokens are signed with.</summary>
    public SigningKey Current => Keys[^1];

    /// <summary>The secret of before key ids, while it is not retired.</summary>
    public SigningKey? Legacy => _byId.GetValueOrDefault(LegacyId);

    public bool TryGet(string id, out SigningKey key)
    {
        key = _byId.GetValueOrDefault(id)!;
        return key is not null;
    }

    /// <summary>Ids go into links and, lower case only, into bounce addresses whose case some servers fold.</summary>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    [GeneratedRegex("^[a-z0-9]{1,8}$")]
    private static partial Regex IdPattern();
}
