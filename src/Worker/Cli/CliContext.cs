using Microsoft.Extensions.Options;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Cli;

/// <summary>Builds the host a command runs in, and carries its output writers.</summary>
internal sealed class CliContext(Action<IHostApplicationBuilder>? configure, TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Builds the host, validates configuration, prepares the database, then runs
    /// <paramref name="action"/> in a scope. Configuration errors are printed, not thrown.</summary>
    public async Task<int> RunAsync(Func<IServiceProvider, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(Program).Assembly.GetName().Name,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Error);
        builder.AddNewsletterCore();
        configure?.Invoke(builder);

        using var host = builder.Build();
        try
        {
            // Options are validated here, as the service validates them at start.
            ValidateOptions(host.Services);
            await host.Services.PrepareNewsletterAsync(warmUpTemplates: false, cancellationToken);
            await using var scope = host.Services.CreateAsyncScope();
            return await action(scope.ServiceProvider, cancellationToken);
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Error.WriteLineAsync($"configuration: {failure}");
            }
            return 2;
        }
    }

    // Runs the validation of every options class registered with ValidateOnStart, as the service does at start.
    private static void ValidateOptions(IServiceProvider services) => services.GetService<IStartupValidator>()?.Validate();

    public static EditionSchedule Schedule(IServiceProvider services, string edition) =>
        new(services.GetRequiredService<IOptions<EditionsOptions>>().Value.Get(edition));
}
