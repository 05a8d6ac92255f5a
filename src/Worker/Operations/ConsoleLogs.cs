using Microsoft.Extensions.Logging.Console;

namespace Newsletter.Worker.Operations;

/// <summary>
/// Console logs: text by default, one JSON object a line with <c>Logging:Console:FormatterName=json</c>,
/// carrying the scopes (a send's publication and edition) and a UTC timestamp unless set otherwise.
/// </summary>
internal static class ConsoleLogs
{
    private const string Console = "Logging:Console";

    public static void AddNewsletterConsoleLogs(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        // Under systemd the host switches the console to journald's format; a format named in the settings still wins.
        if (configuration[$"{Console}:FormatterName"] is { Length: > 0 } named)
        {
            builder.Services.PostConfigure<ConsoleLoggerOptions>(o => o.FormatterName = named);
        }
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            var given = configuration.GetSection($"{Console}:FormatterOptions");
            if (given[nameof(o.IncludeScopes)] is null)
            {
                o.IncludeScopes = true;
            }
            if (given[nameof(o.TimestampFormat)] is null)
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            }
        });
    }
}
