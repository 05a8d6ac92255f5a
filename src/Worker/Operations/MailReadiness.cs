using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Operations;

/// <summary>
/// Ready only when mail can leave: the pickup folder takes a file, or the SMTP server answers and
/// accepts the login (a session opened and closed as a send would). The answer is kept for
/// <see cref="OperationsOptions.MailCheckInterval"/>, so frequent probes do not bother the relay.
/// </summary>
internal sealed class MailReadiness(
    IMailTransport transport, IOptions<DeliveryOptions> delivery, IOptions<SmtpOptions> smtp,
    IOptions<OperationsOptions> operations, TimeProvider time) : IHealthCheck
{
    private readonly SemaphoreSlim _one = new(1, 1);
    private (HealthCheckResult Result, DateTimeOffset At)? _last;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _one.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (_last is { } last && now - last.At < operations.Value.MailCheckInterval)
            {
                return last.Result;
            }
            var result = await CheckAsync(cancellationToken);
            _last = (result, now);
            return result;
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task<HealthCheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        if (delivery.Value.Transport == TransportKind.Pickup)
        {
            var folder = Path.GetFullPath(delivery.Value.PickupDirectory);
            return PickupFolder.Problem(folder) is { } problem
                ? HealthCheckResult.Unhealthy($"the pickup folder: {problem}")
                : HealthCheckResult.Healthy($"the pickup folder {folder} is writable");
        }
        var server = $"{smtp.Value.Host}:{smtp.Value.Port}";
        try
        {
            await using var connection = await transport.OpenAsync(cancellationToken);
            return HealthCheckResult.Healthy($"the SMTP server {server} answers");
        }
        catch (MailTransportException ex)
        {
            return HealthCheckResult.Unhealthy($"the SMTP server {server}: {ex.Message}");
        }
    }
}
