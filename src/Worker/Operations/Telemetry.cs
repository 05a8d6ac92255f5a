using Newsletter.Worker.Delivery;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Newsletter.Worker.Operations;

/// <summary>
/// OpenTelemetry, only when something will receive it: OTLP when an <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c>
/// is set (the exporter reads the other standard <c>OTEL_*</c> variables itself), the Prometheus
/// endpoint when <see cref="OperationsOptions.PrometheusEndpoint"/> is on. Otherwise nothing is loaded,
/// and the start costs what it did.
/// </summary>
internal static class Telemetry
{
    private static readonly string[] Endpoints =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    public static void AddNewsletterTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var otlp = Endpoints.Any(e => !string.IsNullOrWhiteSpace(configuration[e]));
        var prometheus = configuration.GetValue<bool>($"{OperationsOptions.Section}:{nameof(OperationsOptions.PrometheusEndpoint)}");
        if (!otlp && !prometheus)
        {
            return;
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] ?? "newsletter"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(NewsletterMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime");
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(NewsletterMetrics.MeterName, "Microsoft.AspNetCore"))
                .UseOtlpExporter();
        }
    }

    /// <summary><c>/metrics</c> in Prometheus's text format, when switched on.</summary>
    public static void UseNewsletterPrometheus(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>($"{OperationsOptions.Section}:{nameof(OperationsOptions.PrometheusEndpoint)}"))
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint();
        }
    }
}
