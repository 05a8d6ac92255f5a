using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Cli;

/// <summary>What a command does with the database: only reads it (it must exist), or may create it.</summary>
internal enum DatabaseUse
{
    /// <summary>Reads, or changes only what must already be there: a missing database is an error, never created.</summary>
    Existing,

    /// <summary>Adds something that needs no earlier data (an issue, a subscriber): creates the database if missing, and says so.</summary>
    MayCreate,

    /// <summary>Never opens the database (checking the templates).</summary>
    None,
}

/// <summary>A command that changes something: recorded in the audit log (the command and, unless
/// <paramref name="WithArguments"/> is false, its arguments) when it succeeds, or always with <paramref name="EvenIfStopped"/>.</summary>
internal sealed record Audited(ParseResult Parse, bool WithArguments = true, bool EvenIfStopped = false);

/// <summary>Builds the host a command runs in, and carries its output writers.</summary>
internal sealed class CliContext(Action<IHostApplicationBuilder>? configure, TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Builds the host, validates configuration, prepares the database, then runs
    /// <paramref name="action"/> in a scope. Expected failures are printed in one line each (exit 2), not thrown.</summary>
    public async Task<int> RunAsync(
        Func<IServiceProvider, CancellationToken, Task<int>> action, CancellationToken cancellationToken, DatabaseUse use = DatabaseUse.Existing,
        Audited? audit = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(Program).Assembly.GetName().Name,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // A command prints its answer, not the service's information logs: appsettings.json sets
        // the Default level for the service, so the app's own categories are named here.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Newsletter", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Error);
        // A database that cannot be reached is said once, in the command's own line (StartupProblems).
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.None);
        builder.AddNewsletterCore();
        configure?.Invoke(builder);

        using var host = builder.Build();
        // Options are validated here, as the service validates them at start.
        if (StartupProblems.ValidateOptions(host.Services) is { } invalid)
        {
            return StartupProblems.Print(invalid, Error);
        }
        if (use == DatabaseUse.None)
        {
            await using var plain = host.Services.CreateAsyncScope();
            return await action(plain.ServiceProvider, cancellationToken);
        }
        var file = DatabaseLocation.SqliteFile(host.Services);
        var existed = file is null || File.Exists(file);
        if (!existed && use == DatabaseUse.Existing)
        {
            return StartupProblems.Print([$"There is no database at {file}. Run newsletter from the folder that holds data/newsletter.db, " +
                                           $"or set ConnectionStrings__Newsletter=\"Data Source=/full/path/to/newsletter.db\"."], Error);
        }
        if (await StartupProblems.PrepareDatabaseAsync(host.Services,
                () => host.Services.PrepareNewsletterAsync(warmUpTemplates: false, cancellationToken)) is { } unusable)
        {
            return StartupProblems.Print(unusable, Error);
        }
        if (!existed)
        {
            await Error.WriteLineAsync($"Created a new database at {file}");
        }
        await using var scope = host.Services.CreateAsyncScope();
        try
        {
            var exitCode = await action(scope.ServiceProvider, cancellationToken);
            if (audit is not null && (exitCode == 0 || audit.EvenIfStopped))
            {
                await RecordAsync(scope.ServiceProvider, audit, exitCode);
            }
            return exitCode;
        }
        catch (Exception ex) when (StartupProblems.Describe(ex) is { } lines)
        {
            // Options read only when first needed (a transport, a DKIM key) are checked here.
            return StartupProblems.Print(lines, Error);
        }
    }

    private static async Task RecordAsync(IServiceProvider services, Audited audit, int exitCode)
    {
        var action = UsageProblem.CommandPath(audit.Parse.CommandResult)["newsletter ".Length..];
        var arguments = audit.WithArguments
            ? string.Join(' ', audit.Parse.Tokens.Where(t => t.Type != TokenType.Command).Select(t => t.Value))
            : null;
        await services.GetRequiredService<AuditLog>().RecordAsync(AuditLog.CommandLine, action, arguments,
            exitCode == 0 ? null : $"exit {exitCode}", CancellationToken.None);
    }

    /// <summary>"unknown edition 'x' (known editions: …)", or null when the key is known or absent.</summary>
    public static string? UnknownEdition(IServiceProvider services, string? key)
    {
        var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
        return key is null || editions.TryGet(key, out _)
            ? null
            : $"--edition: unknown edition '{key}'{UsageProblem.Suggest(key, editions.Keys)} (known editions: {string.Join(", ", editions.Keys)})";
    }
}
