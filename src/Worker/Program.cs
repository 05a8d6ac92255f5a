using Newsletter.Worker;
using Newsletter.Worker.Admin;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Cli;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Http;
using Newsletter.Worker.Operations;
using Newsletter.Worker.Scheduling;

// `newsletter` (or `newsletter run`) runs the service; `newsletter <command> …` runs one command and exits.
return await NewsletterCli.MainAsync(args, RunServiceAsync);

static async Task<int> RunServiceAsync(string[] args, CancellationToken cancellationToken)
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = AppContext.BaseDirectory,
    });
    // A start that fails is reported below in one line; the host's own report of it is a stack trace.
    builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    builder.AddNewsletterCore();
    builder.AddNewsletterScheduling();
    builder.AddNewsletterDeliveryService();
    builder.AddNewsletterBouncePoller();
    builder.AddNewsletterHttp();
    builder.AddNewsletterAdmin();
    builder.AddNewsletterOperations();

    await using var app = builder.Build();
    // First in the pipeline, so every answer (public, workspace, health, errors) has them.
    app.UseNewsletterSecurityHeaders();
    app.UseNewsletterHeadRequests();
    app.MapNewsletterOperations();
    app.MapNewsletterEndpoints();
    app.MapNewsletterAdmin();
    try
    {
        var problems = StartupProblems.ValidateOptions(app.Services)
            ?? await TemplateChecks.StartupProblemsAsync(app.Services, cancellationToken)
            ?? await StartupProblems.PrepareDatabaseAsync(app.Services,
                () => app.Services.PrepareNewsletterAsync(warmUpTemplates: true, cancellationToken));
        if (problems is null)
        {
            await app.StartAsync(cancellationToken);
        }
        else
        {
            return StartupProblems.Print(problems);
        }
    }
    catch (Exception ex) when (StartupProblems.Describe(ex) is { } problems)
    {
        return StartupProblems.Print(problems);
    }
    await app.WaitForShutdownAsync(cancellationToken);
    return 0;
}

public partial class Program;
