using System.Security.Cryptography;
using System.Text;

namespace Newsletter.Templates.Rendering;

/// <summary>One problem with a template, said as the editor can find it: the file, the line when known, what is wrong.</summary>
public sealed record TemplateProblem(string File, int? Line, string Message)
{
    public override string ToString() => Line is { } line ? $"{File}:{line}: {Message}" : $"{File}: {Message}";
}

/// <summary>A template file from the editor's folder, read once at start.</summary>
public sealed record TemplateFile(string Name, string Path, string Content);

/// <summary>
/// The templates this process renders with: the built-in ones, each replaced by the file of the same
/// name in the editor's folder (<c>Templates:Folder</c>) when there is one. Read once, when the renderer is
/// made; a file the set does not know, or cannot read, is a problem (a misspelt name would otherwise be
/// silently ignored).
/// </summary>
public sealed class TemplateSet
{
    public const string LayoutFile = "_Layout.cshtml";
    public const string ConfirmationFile = "Confirmation.cshtml";
    public const string WelcomeFile = "welcome.md";

    /// <summary>Every file the editor may replace, in the order they are checked.</summary>
    public static readonly IReadOnlyList<string> KnownFiles =
        [LayoutFile, "FactOfTheWeek.cshtml", "TipOfTheWeek.cshtml", "Spotlight.cshtml", ConfirmationFile, WelcomeFile];

    private const string WelcomeResource = RazorEmailRenderer.ViewsNamespace + "." + WelcomeFile;

    private static readonly Lazy<string> BuiltInWelcome = new(() =>
    {
        using var stream = typeof(TemplateSet).Assembly.GetManifestResourceStream(WelcomeResource)
            ?? throw new InvalidOperationException($"The built-in {WelcomeFile} is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    private TemplateSet(string? folder, IReadOnlyDictionary<string, TemplateFile> overrides, IReadOnlyList<TemplateProblem> problems)
    {
        Folder = folder;
        Overrides = overrides;
        Problems = problems;
        Fingerprint = overrides.Count == 0 ? "" : Hash(overrides.Values);
    }

    /// <summary>The built-in templates only.</summary>
    public static TemplateSet BuiltIn { get; } = new(null, new Dictionary<string, TemplateFile>(), []);

    /// <summary>The editor's folder (a full path), or null when none is configured.</summary>
    public string? Folder { get; }

    /// <summary>The editor's files, by file name.</summary>
    public IReadOnlyDictionary<string, TemplateFile> Overrides { get; }

    /// <summary>Files that could not be used: unknown names, unreadable files.</summary>
    public IReadOnlyList<TemplateProblem> Problems { get; }

    /// <summary>Identifies the set's contents: sets with the same contents share one compiled engine.</summary>
    internal string Fingerprint { get; }

    /// <summary>The welcome email's Markdown: the editor's, else the built-in one.</summary>
    public string WelcomeMarkdown => Overrides.TryGetValue(WelcomeFile, out var file) ? file.Content : BuiltInWelcome.Value;

    /// <summary>How a problem names a file: the editor's path, or "built-in NAME".</summary>
    public string Describe(string fileName) => Overrides.TryGetValue(fileName, out var file) ? file.Path : $"built-in {fileName}";

    /// <summary>The set for <paramref name="folder"/> (a full path; null for the built-in set).</summary>
    public static TemplateSet Load(string? folder)
    {
        if (folder is null)
        {
            return BuiltIn;
        }
        var overrides = new Dictionary<string, TemplateFile>(StringComparer.Ordinal);
        var problems = new List<TemplateProblem>();
        if (!Directory.Exists(folder))
        {
            problems.Add(new(folder, null, "there is no such folder (Templates:Folder)"));
            return new TemplateSet(folder, overrides, problems);
        }
        foreach (var path in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.'))
            {
                continue; // an editor's or a system's hidden file
            }
            if (!KnownFiles.Contains(name, StringComparer.Ordinal))
            {
                var meant = KnownFiles.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
                problems.Add(new(path, null, meant is not null
                    ? $"not a template name: did you mean {meant}? (names are case-sensitive)"
                    : $"not a template name; the files that can replace a built-in one are {string.Join(", ", KnownFiles)}"));
                continue;
            }
            try
            {
                overrides[name] = new TemplateFile(name, path, File.ReadAllText(path, Encoding.UTF8));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add(new(path, null, $"cannot be read: {ex.Message}"));
            }
        }
        return new TemplateSet(folder, overrides, problems);
    }

    private static string Hash(IEnumerable<TemplateFile> files)
    {
        var text = new StringBuilder();
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            text.Append(file.Name).Append('\0').Append(file.Path).Append('\0').Append(file.Content).Append('\0');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
