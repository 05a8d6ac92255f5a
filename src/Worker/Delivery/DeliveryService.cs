using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>Wakes the delivery service when a publication has just been created.</summary>
public sealed class DeliverySignal
{
    private readonly Channel<int> _channel = Channel.CreateBounded<int>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _channel.Writer.TryWrite(0);

    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed.
        }
    }
}

/// <summary>
/// In the running service: finds publications that are sending (new ones, resumed ones, and ones
/// left over from a crash or another instance) and runs the delivery engine for each; they share
/// the process's connections and rate (<see cref="DeliveryPacer"/>). On shutdown each engine
/// finishes the messages in flight and hands its other claims back before the host's timeout.
/// </summary>
public sealed class DeliveryService(
    IServiceScopeFactory scopes, DeliveryEngine engine, DeliverySignal signal, DeliveryWrites writes, TimeProvider time,
    ILogger<DeliveryService> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<int, Task> _running = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start path: the host starts the web server only after every service's start returns.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                // Stale slots: a sending or paused publication past its edition's MaxPublicationAge
                // stops here even when no sender is running for it.
                await scope.ServiceProvider.GetRequiredService<PublicationControl>().StopStalePublicationsAsync(stoppingToken);
                var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
                var sending = await db.Publications.AsNoTracking()
                    .Where(p => p.Status == PublicationStatus.Sending).Select(p => p.Id).ToListAsync(stoppingToken);
                foreach (var id in sending.Where(id => !_running.ContainsKey(id)))
                {
                    _running[id] = RunOneAsync(id, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: fall through to wait for the engines already running.
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Looking for publications to send failed; trying again shortly");
            }
            await signal.WaitAsync(PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        // Graceful shutdown: the engines release their claims when the token fires; wait for them.
        await Task.WhenAll(_running.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunOneAsync(int publicationId, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await engine.RunAsync(publicationId, null, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (DeliveryWrites.IsWriteFailure(ex))
        {
            // Once per outage, not a stack trace per attempt; the next poll tries again.
            writes.Failed(publicationId, ex);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Sending publication {PublicationId} failed; it will be picked up again", publicationId);
        }
        finally
        {
            _running.TryRemove(publicationId, out _);
        }
    }
}
