using System.Security.Cryptography;
using System.Text;

namespace Newsletter.Subscribers.Addresses;

/// <summary>
/// The hash that suppressions and subscribers are matched on: HMAC-SHA256, under a key kept apart from
/// the rows, of the unkeyed SHA-256 of the normalised address. Keyed, so a copy of the database alone
/// cannot test guessed addresses; over the old hash, so stored rows convert without knowing the address.
/// </summary>
public sealed class AddressHasher
{
    private readonly byte[] _key;

    public AddressHasher(byte[] key)
    {
        if (key.Length < 32)
        {
            throw new ArgumentException("The address hash key must be at least 32 bytes.", nameof(key));
        }
        _key = key;
    }

    /// <summary>Lower-case hex, 64 characters (the column's width).</summary>
    public string Hash(string address) => FromUnkeyed(EmailAddress.UnkeyedHash(address));

    /// <summary>The keyed hash of an address whose unkeyed hash is all that is known (a stored row).</summary>
    public string FromUnkeyed(string unkeyedHash) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(unkeyedHash)));

    /// <summary>Names the key without revealing it, so a start can tell whether stored hashes were made with it.</summary>
    public string Fingerprint => Convert.ToHexStringLower(HMACSHA256.HashData(_key, "newsletter/address-hash/fingerprint"u8))[..16];
}
