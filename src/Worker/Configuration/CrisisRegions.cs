using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Newsletter.Worker.Configuration;

/// <summary>
/// The crisis-resources line each reader's copy ends with, by the region they chose. The table lives
/// in appsettings.json (section <c>CrisisRegions</c>), not in code: list binding appends to any
/// defaults a class starts with, so the class starts empty and an empty table means "one line for
/// everyone" (<c>Newsletter:CrisisResources</c>).
/// </summary>
public sealed class CrisisRegionOptions
{
    public const string Section = "CrisisRegions";

    public const int MaxLineLength = 500;

    /// <summary>False: every email carries <c>Newsletter:CrisisResources</c> and no page offers a choice.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The region (a key of <see cref="Regions"/>) for a browser language nothing matches, and for a key no longer in the table.</summary>
    public string Fallback { get; set; } = "";

    public List<CrisisRegion> Regions { get; set; } = [];
}

/// <summary>One row of the table: <see cref="Line"/> is the sentence printed at the foot of each email.</summary>
public sealed class CrisisRegion
{
    public string Key { get; set; } = "";

    /// <summary>What the region is called in the sign-up and preferences pages' list.</summary>
    public string Name { get; set; } = "";

    public string Line { get; set; } = "";

    /// <summary>Browser language tags (Accept-Language) that pre-select this region, e.g. en-GB, cy.</summary>
    public List<string> Languages { get; set; } = [];
}

/// <summary>Looks regions up: the pages' choice, the browser's suggestion, and the line for a reader's copy.</summary>
public sealed class CrisisLines(IOptions<CrisisRegionOptions> options)
{
    private CrisisRegionOptions O => options.Value;

    /// <summary>Whether readers choose a region at all.</summary>
    public bool Enabled => O.Enabled && O.Regions.Count > 0;

    public IReadOnlyList<CrisisRegion> Regions => Enabled ? O.Regions : [];

    public string Fallback => O.Fallback;

    /// <summary>A posted choice as a stored key: a known key as it is, anything else the fallback.
    /// Null when readers do not choose (or nothing was posted), which leaves what is stored alone.</summary>
    public string? Normalize(string? posted)
    {
        if (!Enabled || posted is null)
        {
            return null;
        }
        return Find(posted.Trim())?.Key ?? O.Fallback;
    }

    /// <summary>The region a browser's languages suggest: the best-rated tag listed by a region, then
    /// its primary language alone (cy-GB → cy); otherwise the fallback. Never anything but the header.</summary>
    public string? Suggest(string? acceptLanguage)
    {
        if (!Enabled)
        {
            return null;
        }
        if (StringWithQualityHeaderValue.TryParseList(acceptLanguage?.Split(',') ?? [], out var tags))
        {
            foreach (var tag in tags.Where(t => (t.Quality ?? 1) > 0).OrderByDescending(t => t.Quality ?? 1))
            {
                var value = tag.Value.Value ?? "";
                var dash = value.IndexOf('-', StringComparison.Ordinal);
                if ((ByLanguage(value) ?? (dash > 0 ? ByLanguage(value[..dash]) : null)) is { } region)
                {
                    return region.Key;
                }
            }
        }
        return O.Fallback;
    }

    /// <summary>The line for a reader's copy; null (the email's general line) when readers do not
    /// choose or this one never chose. A key since taken out of the table gets the fallback's line.</summary>
    public string? LineFor(string? key) =>
        !Enabled || string.IsNullOrEmpty(key) ? null : (Find(key) ?? Find(O.Fallback))?.Line;

    private CrisisRegion? Find(string key) => O.Regions.FirstOrDefault(r => string.Equals(r.Key, key, StringComparison.OrdinalIgnoreCase));

    private CrisisRegion? ByLanguage(string tag) =>
        O.Regions.FirstOrDefault(r => r.Languages.Any(l => string.Equals(l, tag, StringComparison.OrdinalIgnoreCase)));
}

internal sealed class CrisisRegionOptionsValidator : IValidateOptions<CrisisRegionOptions>
{
    public ValidateOptionsResult Validate(string? name, CrisisRegionOptions o)
    {
        const string s = CrisisRegionOptions.Section;
        if (!o.Enabled || o.Regions.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }
        var errors = new List<string>();
        for (var i = 0; i < o.Regions.Count; i++)
        {
            var r = o.Regions[i];
            if (r.Key is not { Length: > 0 and <= Newsletter.Subscribers.Model.SubscriberModel.MaxCrisisRegionLength }
                || !r.Key.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                errors.Add($"{s}:Regions:{i}:Key: '{r.Key}' must be 1–32 lower-case letters, digits or hyphens");
            }
            if (o.Regions.Take(i).Any(x => x.Key == r.Key))
            {
                errors.Add($"{s}:Regions:{i}:Key: '{r.Key}' appears twice (lists from several settings files merge by position, not by key)");
            }
            if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Any(char.IsControl))
            {
                errors.Add($"{s}:Regions:{i}:Name: must be one line of text");
            }
            if (string.IsNullOrWhiteSpace(r.Line) || r.Line.Length > CrisisRegionOptions.MaxLineLength || r.Line.Any(char.IsControl))
            {
                errors.Add($"{s}:Regions:{i}:Line: must be one line of text, at most {CrisisRegionOptions.MaxLineLength} characters");
            }
            foreach (var language in r.Languages.Where(l => l.Length is 0 or > 35 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            {
                errors.Add($"{s}:Regions:{i}:Languages: '{language}' is not a language tag such as en-GB");
            }
        }
        if (!o.Regions.Any(r => r.Key == o.Fallback))
        {
            errors.Add($"{s}:Fallback: '{o.Fallback}' must be the key of one of the regions");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
