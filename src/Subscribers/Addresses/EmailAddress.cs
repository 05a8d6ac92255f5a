using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Newsletter.Subscribers.Addresses;

/// <summary>
/// Address syntax as a newsletter needs it: a deliverable-looking <c>local@domain</c> with no
/// display name, comments, quoting, whitespace or control characters. Stricter than RFC 5322 on
/// purpose: anything odd enough to need quoting is far more likely a typo or an injection attempt
/// than a real reader.
/// </summary>
public static class EmailAddress
{
    public const int MaxLength = 254;
    private const int MaxLocalPartLength = 64;

    /// <summary>Checks an address; on failure <paramref name="error"/> says what is wrong in plain words.</summary>
    public static bool TryValidate(string? input, out string normalized, out string error)
    {
        normalized = "";
        error = "";
        var address = input?.Trim() ?? "";
        if (address.Length == 0)
        {
            error = "the email address is empty";
            return false;
        }
        if (address.Length > MaxLength)
        {
            error = $"the email address is {address.Length} characters long; the limit is {MaxLength}";
            return false;
        }
        foreach (var c in address)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = "the email address contains a space, line break or control character";
                return false;
            }
        }
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1 || address.IndexOf('@') != at)
        {
            error = $"'{address}' is not an email address (expected name@example.org)";
            return false;
        }
        var local = address[..at];
        var domain = address[(at + 1)..];
        if (local.Length > MaxLocalPartLength)
        {
            error = $"the part before the @ is longer than {MaxLocalPartLength} characters";
            return false;
        }
        if (!IsValidLocalPart(local))
        {
            error = $"'{address}' is not an email address: the part before the @ has characters that are not allowed";
            return false;
        }
        if (!IsValidDomain(domain))
        {
            error = $"'{address}' is not an email address: '{domain}' is not a valid domain";
            return false;
        }
        normalized = Normalize(address);
        return true;
    }

    /// <summary>The form addresses are compared in: trimmed and lower-cased (invariant).</summary>
    public static string Normalize(string address) => address.Trim().ToLowerInvariant();

    /// <summary>Lower-case hex SHA-256 of the normalised address: what suppressions kept before the hash
    /// was keyed, and still the input of the keyed hash (<see cref="AddressHasher"/>).</summary>
    public static string UnkeyedHash(string address)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(address)));
        return Convert.ToHexStringLower(bytes);
    }

    private static bool IsValidLocalPart(string local)
    {
        if (local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in local)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~.".Contains(c, StringComparison.Ordinal)
                || (c > 127 && char.IsLetterOrDigit(c));
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsValidDomain(string domain)
    {
        string ascii;
        try
        {
            ascii = new IdnMapping().GetAscii(domain);
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (ascii.Length > 253)
        {
            return false;
        }
        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            return false;
        }
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-'))
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }
        // The top-level label is never all digits (rules out 1.2.3.4 written as a domain).
        return !labels[^1].All(char.IsAsciiDigit);
    }
}
