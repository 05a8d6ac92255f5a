using Newsletter.Subscribers.Lists;

namespace Newsletter.Worker.Editions;

/// <summary>One recurring edition: what it is called, when it goes out and who it is from.</summary>
public sealed class EditionOptions
{
    /// <summary>The configuration key (<c>weekly-fact</c>); filled in after binding.</summary>
    public string Key { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary>Quartz cron expression (seconds first), evaluated in <see cref="TimeZone"/>.</summary>
    public string Schedule { get; set; } = "";

    /// <summary>IANA time zone id, e.g. America/New_York.</summary>
    public string TimeZone { get; set; } = "";

    /// <summary>The List-Id header value, e.g. <c>Fact of the Week &lt;weekly-fact.example.org&gt;</c>.</summary>
    public string ListId { get; set; } = "";

    /// <summary>From header: an address, optionally with a display name ("Name &lt;addr&gt;").</summary>
    public string From { get; set; } = "";

    /// <summary>Which email template renders it: Fact, Tip or Spotlight.</summary>
    public EditionFormat Format { get; set; }

    /// <summary>A publication still unfinished this long after its slot stops rather than send stale news.</summary>
    public TimeSpan? MaxPublicationAge { get; set; }
}

public enum EditionFormat
{
    Fact,
    Tip,
    Spotlight,
}

/// <summary>
/// The three editions, bound from the <c>Editions</c> section (one child per key). Defaults:
/// Monday 09:00, Thursday 09:00 and the 1st of the month 09:00, America/New_York.
/// </summary>
public sealed class EditionsOptions : IKnownEditions
{
    public const string Section = "Editions";

    public const string WeeklyFact = "weekly-fact";
    public const string WeeklyTip = "weekly-tip";
    public const string MonthlySpotlight = "monthly-spotlight";

    public Dictionary<string, EditionOptions> Items { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Keys => [.. Items.Keys.Order(StringComparer.Ordinal)];

    public EditionOptions Get(string key) => Items.TryGetValue(key, out var edition)
        ? edition
        : throw new KeyNotFoundException($"unknown edition '{key}' (known editions: {string.Join(", ", Keys)})");

    public bool TryGet(string key, out EditionOptions edition) => Items.TryGetValue(key, out edition!);
}
