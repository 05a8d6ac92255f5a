using System.CommandLine;
using Microsoft.Extensions.Options;
using Newsletter.Templates;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command TemplatesCommand(CliContext context)
    {
        var check = new Command("check",
            "Compile the email templates (the built-in ones, and the editor's in Templates:Folder) and check a sample of each " +
            "for the unsubscribe link, the disclaimer and the postal address, as the service does at start. " +
            "Exit 0 when all is well, 1 with one line per problem, 2 when the settings are wrong.");
        check.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await TemplateChecks.RunAsync(services, token);
            if (result.Succeeded)
            {
                await context.Out.WriteLineAsync(result.Folder is null
                    ? $"OK: {result.Templates} templates (none overridden: {TemplatesOptions.Section}:Folder is not set)"
                    : $"OK: {result.Templates} templates ({result.Overridden} overridden from {result.Folder})");
                return 0;
            }
            foreach (var problem in result.Problems)
            {
                await context.Error.WriteLineAsync(problem.ToString());
            }
            await context.Error.WriteLineAsync($"{result.Problems.Count} problem(s) in the email templates; the service would not start with them.");
            return 1;
        }, ct, DatabaseUse.None));
        return new Command("templates", "The email templates and the editor's overrides of them (Templates:Folder).") { check };
    }
}

/// <summary>The one template check, shared by <c>newsletter templates check</c> and the service's start.</summary>
public static class TemplateChecks
{
    /// <summary>Compiles every template and lints a sample of each email with the newsletter's own footer.</summary>
    public static async Task<TemplateCheckResult> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var brand = scope.ServiceProvider.GetRequiredService<EditionEmailFactory>().Brand;
        return await services.GetRequiredService<IEmailRenderer>().CheckTemplatesAsync(brand, cancellationToken);
    }

    /// <summary>
    /// At the service's start, when the editor overrides templates: one line per problem (file, line, what),
    /// or null when there is nothing to check or all is well. The built-in templates alone are left to compile in
    /// the background, as before (the tests check them).
    /// </summary>
    public static async Task<IReadOnlyList<string>?> StartupProblemsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<IOptions<TemplatesOptions>>().Value.FullFolder is null)
        {
            return null;
        }
        var result = await RunAsync(services, cancellationToken);
        return result.Succeeded ? null : [.. result.Problems.Select(p => $"templates: {p}")];
    }
}
