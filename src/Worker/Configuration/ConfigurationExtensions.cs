using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>The newsletter's own settings (name, public address, footer), validated when the
    /// host starts so a bad value stops it with a message naming its key; and the clock.</summary>
    public static IHostApplicationBuilder AddNewsletterOptions(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<NewsletterOptions>().BindConfiguration(NewsletterOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<NewsletterOptions>, NewsletterOptionsValidator>();
        services.AddOptions<CrisisRegionOptions>().BindConfiguration(CrisisRegionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrisisRegionOptions>, CrisisRegionOptionsValidator>();
        services.AddSingleton<CrisisLines>();
        // Only Logging:IncludeAddresses; the logging section's other keys belong to the loggers.
        services.AddOptions<LogPrivacyOptions>().BindConfiguration(LogPrivacyOptions.Section).ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        return builder;
    }
}

internal sealed class NewsletterOptionsValidator : IValidateOptions<NewsletterOptions>
{
    public ValidateOptionsResult Validate(string? name, NewsletterOptions o)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "https" && uri.Scheme != "http"))
        {
            errors.Add($"{NewsletterOptions.Section}:PublicBaseUrl: '{o.PublicBaseUrl}' is not an absolute http(s) URL");
        }
        if (o.Name.Any(char.IsControl))
        {
            errors.Add($"{NewsletterOptions.Section}:Name: must be one line");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
