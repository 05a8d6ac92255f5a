using Microsoft.Extensions.Diagnostics.HealthChecks;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Operations;

/// <summary>
/// Not ready while the database refuses the delivery's writes (a full disk, a lost server): the
/// "database" check only reads, and a full disk still answers reads. The delivery's own outcome
/// writes are the probe. A write made here and rolled back would not be: on SQLite (WAL) it never
/// reaches the disk, so it passes on a full one.
/// </summary>
internal sealed class DatabaseWritesReadiness(DeliveryWrites writes) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(writes.Current is { } failure
            ? HealthCheckResult.Unhealthy(
                $"the delivery cannot save outcomes since {failure.Since:yyyy-MM-dd HH:mm:ss} UTC ({failure.Reason}); " +
                "sending is paused and resumes when writes succeed again")
            : HealthCheckResult.Healthy());
}
