using System.Text;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Operations;

/// <summary>
/// Running as a service and being watched: systemd or Windows service lifetime, liveness
/// (<c>/healthz</c>) and readiness (<c>/readyz</c>), metrics and traces, console logs.
/// </summary>
public static class OperationsExtensions
{
    private const string Ready = "ready";

    public static WebApplicationBuilder AddNewsletterOperations(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Each does nothing unless the process was started by systemd (Type=notify) or the Windows service manager.
        services.AddSystemd();
        services.AddWindowsService(o => o.ServiceName = "newsletter");
        builder.AddNewsletterConsoleLogs();
        builder.PreferContainerPorts();

        services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeliveryOptions>, PickupFolderValidation>();
        services.AddSingleton<MailReadiness>();
        services.AddSingleton<StateGauges>();
        services.AddHealthChecks()
            .AddDbContextCheck<NewsletterDbContext>("database", tags: [Ready])
            .AddCheck<DatabaseWritesReadiness>("database-writes", tags: [Ready])
            .AddCheck<MigrationsReadiness>("migrations", tags: [Ready])
            .AddCheck<MailReadiness>("mail", tags: [Ready]);
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<OperationsOptions>>((health, o) =>
        {
            foreach (var check in health.Registrations)
            {
                check.Timeout = o.Value.ReadinessTimeout;
            }
        });
        builder.AddNewsletterTelemetry();
        return builder;
    }

    /// <summary>Before routing: the probes need neither the route table nor the workspace's pages.</summary>
    public static WebApplication MapNewsletterOperations(this WebApplication app)
    {
        app.Services.GetRequiredService<StateGauges>();
        // Liveness: the process answers; no check, so a database away does not get it restarted.
        app.UseHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.UseHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteReadiness });
        app.UseNewsletterPrometheus();
        return app;
    }

    /// <summary>The overall status, then one line per check: its name, status and why.</summary>
    private static Task WriteReadiness(HttpContext context, HealthReport report)
    {
        var text = new StringBuilder().Append(report.Status).Append('\n');
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append(": ").Append(entry.Status);
            if ((entry.Description ?? entry.Exception?.Message) is { } why)
            {
                text.Append(" (").Append(why).Append(')');
            }
            text.Append('\n');
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(text.ToString());
    }
}
