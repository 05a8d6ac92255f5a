using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// The process-wide limits every publication's senders share: at most <see cref="DeliveryOptions.Connections"/>
/// open SMTP connections, and at most <see cref="DeliveryOptions.MessagesPerSecond"/> messages a
/// second across all of them (a token bucket from System.Threading.RateLimiting).
/// </summary>
public sealed class DeliveryPacer : IDisposable
{
    private readonly SemaphoreSlim _connections;
    private readonly TokenBucketRateLimiter? _rate;

    public DeliveryPacer(IOptions<DeliveryOptions> options)
    {
        var o = options.Value;
        _connections = new SemaphoreSlim(o.Connections, o.Connections);
        if (o.MessagesPerSecond > 0)
        {
            // Refill about every 50 ms (or once per message below 20 a second) with exactly the
            // tokens that period is worth, so the long-run rate is the configured one; the bucket
            // holds one period's worth, so bursts stay small.
            var tokens = Math.Max(1, (int)Math.Round(o.MessagesPerSecond * 0.05));
            _rate = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = tokens,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / o.MessagesPerSecond),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        }
    }

    /// <summary>Waits for permission to send one message.</summary>
    public async ValueTask AcquireMessageAsync(CancellationToken cancellationToken)
    {
        if (_rate is null)
        {
            return;
        }
        using var lease = await _rate.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("the delivery rate limiter refused a message");
        }
    }

    /// <summary>Waits for one of the process's connection slots; dispose the result to give it back.</summary>
    public async Task<IDisposable> AcquireConnectionSlotAsync(CancellationToken cancellationToken)
    {
        await _connections.WaitAsync(cancellationToken);
        return new Slot(_connections);
    }

    public void Dispose()
    {
        _rate?.Dispose();
        _connections.Dispose();
    }

    private sealed class Slot(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
