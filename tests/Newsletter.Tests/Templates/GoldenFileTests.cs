using System.Text.RegularExpressions;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Templates;

/// <summary>
/// Each edition's sample issue, rendered for Sam, against the reviewed copy in <c>Templates/Golden/</c>.
/// A change to the templates, the CSS or the text layout shows up here as a diff to look at.
/// After an intended change, rewrite the files with <c>UPDATE_GOLDEN=1 dotnet test --filter
/// "FullyQualifiedName~GoldenFileTests"</c> and review the diff before committing it.
/// </summary>
public sealed partial class GoldenFileTests
{
    private static string GoldenDirectory => Path.Combine(TestData.RepositoryRoot, "tests", "Newsletter.Tests", "Templates", "Golden");

    private static bool Update => Environment.GetEnvironmentVariable("UPDATE_GOLDEN") is "1" or "true";

    /// <summary>Line ends as LF, one final newline, and anything per-run (slot nonces, signed tokens in
    /// links) replaced by a fixed stand-in. Trailing spaces are kept: the text part's "-- " needs its space.</summary>
    internal static string Normalise(string text)
    {
        text = text.ReplaceLineEndings("\n");
        text = SlotNonce().Replace(text, "[[nl:NONCE:");
        text = UnsubscribeToken().Replace(text, "/unsubscribe/TOKEN");
        return text.TrimEnd('\n') + "\n";
    }

    [Theory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task Every_editions_html_matches_its_reviewed_golden_file(string edition) =>
        Compare($"{edition}.html", Normalise((await MessageKit.RenderAsync(edition)).Html));

    [Theory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task Every_editions_plain_text_matches_its_reviewed_golden_file(string edition) =>
        Compare($"{edition}.txt", Normalise((await MessageKit.RenderAsync(edition)).Text));

    [Fact]
    public void Normalising_replaces_per_run_values_and_line_ends()
    {
        Assert.Equal("a /unsubscribe/TOKEN b  \nc\n", Normalise("a /unsubscribe/v1.Abc_-.xyz b  \r\nc\r\n\r\n"));
    }

    private static void Compare(string name, string actual)
    {
        var path = Path.Combine(GoldenDirectory, name);
        if (Update)
        {
            Directory.CreateDirectory(GoldenDirectory);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"{path} is missing; create it with UPDATE_GOLDEN=1 and review it");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected == actual)
        {
            return;
        }
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var first = Enumerable.Range(0, Math.Min(expectedLines.Length, actualLines.Length))
            .FirstOrDefault(i => expectedLines[i] != actualLines[i], Math.Min(expectedLines.Length, actualLines.Length));
        Assert.Fail($"{name} differs from its golden file at line {first + 1}:\n" +
                    $"  golden: {(first < expectedLines.Length ? expectedLines[first] : "(end of file)")}\n" +
                    $"  now:    {(first < actualLines.Length ? actualLines[first] : "(end of file)")}\n" +
                    "If the change is intended, run the tests with UPDATE_GOLDEN=1 and review the diff.");
    }

    [GeneratedRegex(@"\[\[nl:[0-9a-f]{32}:")]
    private static partial Regex SlotNonce();

    [GeneratedRegex(@"/unsubscribe/[A-Za-z0-9._~-]+")]
    private static partial Regex UnsubscribeToken();
}
