namespace Newsletter.Tests.Infrastructure;

/// <summary>Shared sample data: the repository's sample issues and small issue files to vary.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Newsletter.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Newsletter.sln not found above {AppContext.BaseDirectory}");
    });

    /// <summary>The repository root (where Newsletter.sln is).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>samples/issues/EDITION.md: a valid issue for each of the three editions.</summary>
    public static string SampleIssuePath(string edition) => Path.Combine(RepositoryRoot, "samples", "issues", edition + ".md");

    public static readonly string[] Editions = ["weekly-fact", "weekly-tip", "monthly-spotlight"];

    /// <summary>A small valid Tip of the Week issue; <paramref name="extraFrontMatter"/> lines go before the closing '---'.</summary>
    public static string TipIssue(string subject = "Tip of the Week: one small kindness", params string[] extraFrontMatter) =>
        "---\n" +
        "edition: weekly-tip\n" +
        $"subject: \"{subject}\"\n" +
        string.Concat(extraFrontMatter.Select(l => l + "\n")) +
        "---\n" +
        "## Try this\n" +
        "\n" +
        "Do **one** kind thing for yourself today, however small.\n";
}
