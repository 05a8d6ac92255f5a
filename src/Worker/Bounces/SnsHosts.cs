namespace Newsletter.Worker.Bounces;

/// <summary>
/// Which addresses SNS may send us to (its signing certificate, a subscription confirmation): https only,
/// on a host that <c>Bounces:Ses:CertificateHosts</c> allows, where <c>*</c> stands for exactly one DNS label.
/// </summary>
public static class SnsHosts
{
    public static bool IsValidPattern(string pattern)
    {
        var labels = pattern.Trim().Split('.');
        return labels.All(l => l == "*" || (l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')));
    }

    /// <summary>The address when it is https on an allowed host; otherwise null and a one-line reason.</summary>
    public static Uri? Allowed(string? url, IEnumerable<string> patterns, out string problem)
    {
        problem = "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            problem = "it is not an https address";
            return null;
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = "it carries a user name";
            return null;
        }
        var host = uri.IdnHost.TrimEnd('.');
        if (!patterns.Any(p => !string.IsNullOrWhiteSpace(p) && Matches(host, p.Trim())))
        {
            problem = $"its host '{host}' is not in Bounces:Ses:CertificateHosts";
            return null;
        }
        return uri;
    }

    public static bool Matches(string host, string pattern)
    {
        var hostLabels = host.Split('.');
        var patternLabels = pattern.Split('.');
        return hostLabels.Length == patternLabels.Length
            && hostLabels.Zip(patternLabels).All(p => p.Second == "*"
                ? p.First.Length > 0 && p.First.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
    }
}
