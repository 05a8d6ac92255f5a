using Microsoft.Extensions.Options;

namespace Newsletter.Templates;

/// <summary>Where the editor keeps templates that replace the built-in ones (<c>Templates:Folder</c>).</summary>
public sealed class TemplatesOptions
{
    public const string Section = "Templates";

    /// <summary>A folder of overrides (<c>_Layout.cshtml</c>, <c>welcome.md</c>…); none by default. A relative
    /// path is taken from the directory the service runs in, as the other paths in the settings are.</summary>
    public string? Folder { get; set; }

    /// <summary>The folder as a full path, or null when none is set.</summary>
    public string? FullFolder => string.IsNullOrWhiteSpace(Folder) ? null : Path.GetFullPath(Folder.Trim());
}

internal sealed class TemplatesOptionsValidator : IValidateOptions<TemplatesOptions>
{
    public ValidateOptionsResult Validate(string? name, TemplatesOptions options)
    {
        string? folder;
        try
        {
            folder = options.FullFolder;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return ValidateOptionsResult.Fail($"{TemplatesOptions.Section}:Folder: '{options.Folder}' is not a usable path");
        }
        return folder is null || Directory.Exists(folder)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{TemplatesOptions.Section}:Folder: there is no folder at {folder} (a relative path is taken from the directory newsletter runs in)");
    }
}
