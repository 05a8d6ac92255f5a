using Microsoft.Extensions.Diagnostics.HealthChecks;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Operations;

/// <summary>Ready only when every migration this build knows is applied: a service whose database is
/// behind (migrations off, or another version ran them back) would fail on its first query.</summary>
internal sealed class MigrationsReadiness(NewsletterDbContext db, DatabasePreparer preparer, IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Checked first: opening a SQLite file that is not there would create it.
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return HealthCheckResult.Unhealthy($"the database cannot be reached ({DatabaseLocation.Describe(services)})");
        }
        return await preparer.IsUpToDateAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("migrations are pending; start the service with Database:MigrateOnStart=true, or apply them");
    }
}
