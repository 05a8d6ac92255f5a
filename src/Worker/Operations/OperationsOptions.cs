namespace Newsletter.Worker.Operations;

/// <summary>How the running service is watched: readiness, metrics, traces.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>Serve the metrics for Prometheus at <c>/metrics</c>. Off by default: the exporter is a
    /// pre-release, and the counts (readers, sign-ups) are not for the public; keep the path from the proxy.</summary>
    public bool PrometheusEndpoint { get; set; }

    /// <summary>How long a readiness check (database, mail server) may take before it counts as failed.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A readiness answer about the mail server is reused this long, so probes every few seconds
    /// do not open a session with the relay each time.</summary>
    public TimeSpan MailCheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}
