namespace Newsletter.Worker.Editions;

/// <summary>
/// Where issues live on the public site, relative to its base address: the archive's pages and feed,
/// and the private web view of an issue kept out of the archive. Edition keys and archive keys are
/// lower-case letters, digits and dashes, so they go into a path as they are.
/// </summary>
public static class IssueAddresses
{
    public const string Archive = "/archive";

    public static string EditionArchive(string edition) => $"{Archive}/{edition}";

    public static string EditionFeed(string edition) => $"{Archive}/{edition}/feed.xml";

    public static string ArchivedIssue(string edition, string archiveKey) => $"{Archive}/{edition}/{archiveKey}";

    public static string WebView(string token) => $"/view/{token}";
}
