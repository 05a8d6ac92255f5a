using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Subscribers.Lists;
using Quartz;

namespace Newsletter.Worker.Editions;

public static class EditionsExtensions
{
    /// <summary>The editions (defaults overlaid with configuration), validated at start, and the
    /// factory that turns a stored issue into its edition's email model.</summary>
    public static IHostApplicationBuilder AddNewsletterEditions(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EditionsOptions>()
            .Configure<IConfiguration>((options, configuration) => BindEditions(options, configuration.GetSection(EditionsOptions.Section)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EditionsOptions>, EditionsOptionsValidator>();
        services.AddSingleton<IKnownEditions>(sp => sp.GetRequiredService<IOptions<EditionsOptions>>().Value);
        services.AddScoped<EditionEmailFactory>();
        return builder;
    }

    /// <summary>The three editions with their defaults, overlaid with whatever configuration says.
    /// Further editions may be configured; they must name their <see cref="EditionOptions.Format"/>.</summary>
    internal static void BindEditions(EditionsOptions options, IConfigurationSection section)
    {
        options.Items.Clear();
        foreach (var d in Defaults())
        {
            options.Items[d.Key] = d;
        }
        foreach (var child in section.GetChildren())
        {
            if (!options.Items.TryGetValue(child.Key, out var edition))
            {
                edition = new EditionOptions { Key = child.Key, Format = (EditionFormat)(-1) };
                options.Items[child.Key] = edition;
            }
            child.Bind(edition);
            edition.Key = child.Key;
        }
    }

    private static IEnumerable<EditionOptions> Defaults() =>
    [
        new()
        {
            Key = EditionsOptions.WeeklyFact, DisplayName = "Fact of the Week", Format = EditionFormat.Fact,
            Schedule = "0 0 9 ? * MON", TimeZone = "America/New_York",
            ListId = "Fact of the Week <weekly-fact.newsletter.example.org>",
            From = "Steady Ground <newsletter@example.org>", MaxPublicationAge = TimeSpan.FromDays(2),
        },
        new()
        {
            Key = EditionsOptions.WeeklyTip, DisplayName = "Tip of the Week", Format = EditionFormat.Tip,
            Schedule = "0 0 9 ? * THU", TimeZone = "America/New_York",
            ListId = "Tip of the Week <weekly-tip.newsletter.example.org>",
            From = "Steady Ground <newsletter@example.org>", MaxPublicationAge = TimeSpan.FromDays(2),
        },
        new()
        {
            Key = EditionsOptions.MonthlySpotlight, DisplayName = "Monthly Spotlight", Format = EditionFormat.Spotlight,
            Schedule = "0 0 9 1 * ?", TimeZone = "America/New_York",
            ListId = "Monthly Spotlight <monthly-spotlight.newsletter.example.org>",
            From = "Steady Ground <newsletter@example.org>", MaxPublicationAge = TimeSpan.FromDays(7),
        },
    ];
}

internal sealed class EditionsOptionsValidator : IValidateOptions<EditionsOptions>
{
    public ValidateOptionsResult Validate(string? name, EditionsOptions options)
    {
        var errors = new List<string>();
        foreach (var (key, e) in options.Items)
        {
            var at = $"{EditionsOptions.Section}:{key}";
            if (!System.Text.RegularExpressions.Regex.IsMatch(key, "^[a-z0-9][a-z0-9-]{0,63}$"))
            {
                errors.Add($"{at}: an edition key is lower-case letters, digits and dashes");
            }
            if (!Enum.IsDefined(e.Format))
            {
                errors.Add($"{at}:Format: say which template renders it (Fact, Tip or Spotlight)");
            }
            if (string.IsNullOrWhiteSpace(e.DisplayName) || HasControl(e.DisplayName))
            {
                errors.Add($"{at}:DisplayName: a display name is required (one line)");
            }
            if (!CronExpression.TryParse(e.Schedule, out _))
            {
                errors.Add($"{at}:Schedule: '{e.Schedule}' is not a valid Quartz cron expression (seconds first, e.g. '0 0 9 ? * MON')");
            }
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(e.TimeZone, out _))
            {
                errors.Add($"{at}:TimeZone: '{e.TimeZone}' is not a known time zone (use an IANA id such as America/New_York)");
            }
            if (string.IsNullOrWhiteSpace(e.ListId) || HasControl(e.ListId))
            {
                errors.Add($"{at}:ListId: a List-Id is required (one line, e.g. 'Tip of the Week <weekly-tip.example.org>')");
            }
            if (HasControl(e.From) || !MailboxAddress.TryParse(e.From, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
            {
                errors.Add($"{at}:From: '{e.From}' is not a sender address (e.g. 'Steady Ground <newsletter@example.org>')");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool HasControl(string? value) => value is not null && value.Any(char.IsControl);
}
