using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Cli;

/// <summary>
/// Expected failures at start (a bad setting, a database that cannot be opened, a port in use)
/// said in one line each, naming the setting and the fix, for the commands and the service alike.
/// Anything else is a bug and keeps its stack trace.
/// </summary>
public static partial class StartupProblems
{
    /// <summary>Validates every option registered with ValidateOnStart; null when all are valid.</summary>
    public static IReadOnlyList<string>? ValidateOptions(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (Exception ex) when (Settings(ex) is { } lines)
        {
            return lines;
        }
    }

    /// <summary>Runs the database's preparation; a database that cannot be opened or migrated is one
    /// line naming ConnectionStrings:Newsletter, anything else is thrown.</summary>
    public static async Task<IReadOnlyList<string>?> PrepareDatabaseAsync(IServiceProvider services, Func<Task> prepare)
    {
        try
        {
            await prepare();
            return null;
        }
        catch (Exception ex) when (ex is DbException or IOException or UnauthorizedAccessException
                                   // Npgsql's EF provider wraps a refused connection as "likely a transient failure".
                                   || ex is InvalidOperationException { InnerException: DbException })
        {
            var where = DatabaseLocation.Describe(services);
            var cause = ex is InvalidOperationException { InnerException: { } inner } ? inner : ex;
            return [$"configuration: ConnectionStrings:Newsletter: cannot open {where}: {OneLine(cause.Message)}. " +
                    "Point ConnectionStrings__Newsletter at a database this user can read and write (and Database__Provider at its kind)."];
        }
        catch (Exception ex) when (Settings(ex) is { } lines)
        {
            return lines;
        }
    }

    /// <summary>What the service's start threw, when it is something the operator can fix; null otherwise.</summary>
    public static IReadOnlyList<string>? Describe(Exception ex) => ex switch
    {
        IOException { InnerException: AddressInUseException } =>
        [
            $"configuration: Urls: {(BindAddress().Match(ex.Message) is { Success: true } m ? m.Groups["url"].Value : "the address")} is already in use " +
            "by another program (perhaps the service is already running). Stop it, or give this one a free port with Urls " +
            "(--Urls=http://localhost:5081, or ASPNETCORE_URLS in the environment) and set Newsletter:PublicBaseUrl to match.",
        ],
        _ => Settings(ex),
    };

    /// <summary>Prints the lines (to standard error unless told) and gives the exit code for a configuration error.</summary>
    public static int Print(IEnumerable<string> lines, TextWriter? error = null)
    {
        foreach (var line in lines)
        {
            (error ?? Console.Error).WriteLine(line);
        }
        return 2;
    }

    /// <summary>Option validation failures as "configuration: Section:Key: what is wrong (how to set it)".</summary>
    private static List<string>? Settings(Exception ex)
    {
        // A value the binder cannot read as its type (a switch that is not true or false) fails before validation.
        if (ex is InvalidOperationException && Unconvertible().Match(ex.Message) is { Success: true } bad)
        {
            var type = bad.Groups["type"].Value.Replace("System.", "", StringComparison.Ordinal);
            return [Setting(typeof(object), $"{bad.Groups["key"].Value}: '{bad.Groups["value"].Value}' is not a valid {type}")];
        }
        var failures = ex switch
        {
            OptionsValidationException o => [o],
            AggregateException a when a.InnerExceptions.All(i => i is OptionsValidationException) =>
                a.InnerExceptions.Cast<OptionsValidationException>().ToList(),
            _ => null,
        };
        return failures?.SelectMany(f => f.Failures.Select(m => Setting(f.OptionsType, m))).ToList();
    }

    private static string Setting(Type optionsType, string failure)
    {
        // Data annotations name the class and member; the editor knows the setting.
        if (DataAnnotation().Match(failure) is { Success: true } m)
        {
            var section = optionsType.GetField("Section")?.GetValue(null) as string ?? m.Groups["type"].Value;
            failure = $"{section}:{m.Groups["member"].Value}: {m.Groups["error"].Value}";
        }
        var key = SettingKey().Match(failure) is { Success: true } k ? k.Groups["key"].Value : null;
        var fix = key is null ? "" : $" (set {key.Replace(":", "__", StringComparison.Ordinal)} in the environment, or {key} in appsettings.json)";
        return $"configuration: {OneLine(failure)}{fix}";
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^DataAnnotation validation failed for '(?<type>\w+)' members: '(?<member>[\w.]+)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotation();

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[\w.]+)'")]
    private static partial Regex Unconvertible();

    [GeneratedRegex(@"address (?<url>\S+?): ")]
    private static partial Regex BindAddress();

    [GeneratedRegex(@"^(?<key>[A-Za-z]+(?::[A-Za-z0-9_-]+)+): ")]
    private static partial Regex SettingKey();
}
