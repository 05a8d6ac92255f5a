using System.CommandLine;

namespace Newsletter.Worker.Cli;

/// <summary>
/// The command line. Each command builds a host with the same configuration as the service
/// (appsettings, environment, user secrets) but without schedules, HTTP or background sending,
/// runs, and exits: 0 on success, 1 when the input was refused, 2 for usage errors.
/// </summary>
public static partial class NewsletterCli
{
    private static readonly string[] Commands = ["editions", "issues", "publications", "subscribers", "--help", "-h", "-?", "--version"];

    /// <summary>True when the arguments name a command rather than running the service.</summary>
    public static bool IsCommand(string[] args) => args.Length > 0 && Commands.Contains(args[0], StringComparer.Ordinal);

    /// <summary>Arguments for the service itself: an optional leading <c>run</c> is dropped.</summary>
    public static string[] ServiceArgs(string[] args) => args.Length > 0 && args[0] == "run" ? args[1..] : args;

    /// <summary>Runs one command. <paramref name="configure"/> lets tests add configuration; output
    /// and errors go to the given writers (the console by default).</summary>
    public static async Task<int> RunAsync(
        string[] args, Action<IHostApplicationBuilder>? configure = null, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default)
    {
        var context = new CliContext(configure, output ?? Console.Out, error ?? Console.Error);
        var root = new RootCommand("Newsletter: publishes the blog's editions to their subscribers on schedule.\n" +
                                   "Run without a command to start the service.")
        {
            EditionsCommand(context),
            IssuesCommand(context),
            PublicationsCommand(context),
            SubscribersCommand(context),
        };
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellationToken);
    }
}
