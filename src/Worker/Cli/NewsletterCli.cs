using System.CommandLine;
using System.CommandLine.Help;

namespace Newsletter.Worker.Cli;

/// <summary>
/// The command line. Each command builds a host with the same configuration as the service
/// (appsettings, environment, user secrets in Development) but without schedules, HTTP or
/// background sending, runs, and exits: 0 on success, 1 when the input was refused, 2 for usage
/// and configuration errors.
/// </summary>
public static partial class NewsletterCli
{
    /// <summary>The executable's entry: <c>newsletter</c> alone, <c>newsletter run</c>, or only settings
    /// (<c>--Key=value</c>, as the test host passes them) start the service; everything else is a command.</summary>
    public static Task<int> MainAsync(string[] args, Func<string[], CancellationToken, Task<int>> service) =>
        args.All(IsSetting) ? service(args, CancellationToken.None) : RunAsync(args, service: service);

    /// <summary>Runs one command. <paramref name="configure"/> lets tests add configuration; output
    /// and errors go to the given writers (the console by default). <paramref name="service"/> is what
    /// <c>run</c> starts; without it (in tests) <c>run</c> is refused.</summary>
    public static async Task<int> RunAsync(
        string[] args, Action<IHostApplicationBuilder>? configure = null, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default, Func<string[], CancellationToken, Task<int>>? service = null)
    {
        var context = new CliContext(configure, output ?? Console.Out, error ?? Console.Error);
        var root = new RootCommand("Newsletter: publishes the blog's editions to their subscribers on schedule.\n" +
                                   "Run without a command (or with 'run') to start the service.")
        {
            RunCommand(context, service),
            EditionsCommand(context),
            IssuesCommand(context),
            PublicationsCommand(context),
            SubscribersCommand(context),
            EditorsCommand(context),
            BouncesCommand(context),
            TemplatesCommand(context),
            AuditCommand(context),
            KeysCommand(context),
        };
        var parsed = root.Parse(args);
        // Help wins over any other problem on the line, and never starts anything.
        if (parsed.Action is not HelpAction && parsed.Errors.Count > 0)
        {
            await context.Error.WriteLineAsync(UsageProblem.Describe(parsed));
            await context.Error.WriteLineAsync($"Run '{UsageProblem.CommandPath(parsed.CommandResult)} --help' for usage.");
            return 2;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // On SIGTERM or Ctrl+C the service stops through the host's own handler, as `newsletter` alone does;
            // a command is cancelled and given time to record the messages in flight (the engine's grace is
            // 60% of the host's 30 s shutdown time), not the 2 s System.CommandLine allows by default.
            ProcessTerminationTimeout = parsed.CommandResult.Command.Name == "run" ? null : TimeSpan.FromMinutes(1),
        }, cancellationToken);
    }

    private static Command RunCommand(CliContext context, Func<string[], CancellationToken, Task<int>>? service)
    {
        var command = new Command("run",
            "Run the service: schedules, delivery and the public pages (the same as 'newsletter' alone). " +
            "Settings may follow as --Key=value, e.g. --Urls=http://localhost:5081.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, ct) =>
        {
            var settings = parse.UnmatchedTokens.ToArray();
            if (settings.FirstOrDefault(s => !IsSetting(s)) is { } bad)
            {
                await context.Error.WriteLineAsync($"'run' takes settings as --Key=value, not '{bad}' (e.g. newsletter run --Urls=http://localhost:5081)");
                await context.Error.WriteLineAsync("Run 'newsletter run --help' for usage.");
                return 2;
            }
            if (service is null)
            {
                await context.Error.WriteLineAsync("'run' starts the service, which only the newsletter executable can do");
                return 2;
            }
            return await service(settings, ct);
        });
        return command;
    }

    /// <summary>A configuration setting on the command line, as .NET's command-line configuration reads it.</summary>
    private static bool IsSetting(string arg) =>
        arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) > 2;
}
