using System.Text.RegularExpressions;

namespace Newsletter.Subscribers.Addresses;

/// <summary>
/// Masks email addresses inside free text (a mail server's reply, an exception message) before it is
/// stored or logged: <c>jane.doe@example.org</c> becomes <c>j***@example.org</c>. The domain stays, so
/// the text still says which provider answered; the person is no longer named.
/// </summary>
public static partial class AddressMask
{
    /// <summary>The text with every address in it masked (an address masked already stays as it is). Most
    /// replies ("250 2.0.0 Ok") name nobody: without an '@' the text is returned as it is, unscanned.</summary>
    public static string Mask(string text) =>
        !text.Contains('@') ? text : Address().Replace(text, m => $"{m.Groups["first"].Value}***@{m.Groups["domain"].Value}");

    /// <summary>The text with one erased person's address replaced, in any letter case, by "(erased address)".</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Erase(string? text, string address) =>
        text is null || address.Length == 0
            ? text
            : Regex.Replace(text, Regex.Escape(address), "(erased address)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    // A local part as our own validation allows it (with non-ASCII letters), then a dotted domain.
    [GeneratedRegex(@"(?<first>[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-])[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]*@(?<domain>[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+)",
        RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Address();
}
