using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>The field names the public form, the JSON body and the error answers share.</summary>
public static class SignupFields
{
    public const string Email = "email";
    public const string Name = "name";
    public const string Editions = "editions";
    public const string ConsentVersion = "consent_version";

    /// <summary>The honeypot: hidden from people, filled in by form-filling bots.</summary>
    public const string Honeypot = "website";
}

/// <summary>Checks the parts of a sign-up the way every entry point (web form, JSON, import) must.</summary>
public static class SignupInput
{
    /// <summary>Validates an address, a name and a choice of editions; errors are keyed by
    /// <see cref="SignupFields"/> names and written for the person who typed them.</summary>
    public static Dictionary<string, string> Validate(
        string? email, string? name, IReadOnlyCollection<string>? editions, IKnownEditions known,
        out string normalized, out List<string> chosen)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        chosen = [];
        if (!EmailAddress.TryValidate(email, out normalized, out var error))
        {
            errors[SignupFields.Email] = Sentence(error);
        }
        if (!SubscriberList.TryValidateName(name, out error))
        {
            errors[SignupFields.Name] = Sentence(error);
        }
        if (editions is null || editions.Count == 0)
        {
            errors[SignupFields.Editions] = "Please choose at least one edition.";
        }
        else
        {
            foreach (var key in editions)
            {
                if (!known.Keys.Contains(key, StringComparer.Ordinal))
                {
                    var shown = key.Length > SubscriberModel.MaxEditionKeyLength || key.Any(char.IsControl)
                        ? "that edition" : $"'{key}'";
                    errors[SignupFields.Editions] = $"There is no edition called {shown} (the editions are {string.Join(", ", known.Keys)}).";
                    break;
                }
                if (!chosen.Contains(key, StringComparer.Ordinal))
                {
                    chosen.Add(key);
                }
            }
        }
        return errors;
    }

    /// <summary>A name as stored: trimmed, empty as null.</summary>
    public static string? CleanName(string? name) => string.IsNullOrWhiteSpace(name) ? null : name.Trim();

    /// <summary>Makes a single line of untrusted text fit a column (user agents, sources).</summary>
    public static string? Clip(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var line = new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return line.Length <= max ? line : line[..max];
    }

    private static string Sentence(string error) =>
        error.Length == 0 ? error : char.ToUpperInvariant(error[0]) + error[1..] + (error.EndsWith('.') ? "" : ".");
}
