
namespace Newsletter.Worker.Delivery;

/// <summary>
/// A publication's answer to "slow down" (421, or an x.7.x status): halve the connections it uses,
/// pause every sender for a while (doubling while the server keeps complaining), then win one
/// connection back per quiet <see cref="DeliveryOptions.ThrottleRecovery"/>. Fewer connections and
/// pauses are how the rate comes down; the recipient is never blamed.
/// </summary>
internal sealed class Throttle(DeliveryOptions options, TimeProvider time)
{
    private readonly object _gate = new();
    private readonly int _max = options.Connections;
    private int _allowed = options.Connections;
    private int _episodes;
    private DateTime _pausedUntil = DateTime.MinValue;
    private DateTime _lastThrottled = DateTime.MinValue;
    private DateTime _lastRecovered = DateTime.MinValue;

    public sealed record Slowdown(int Connections, TimeSpan Pause);

    /// <summary>Senders numbered at or above this sit out.</summary>
    public int AllowedConnections => Volatile.Read(ref _allowed);

    /// <summary>Time left in the current pause, or null when senders may go on.</summary>
    public TimeSpan? PauseLeft()
    {
        var left = ResumeAt(time) - time.GetUtcNow().UtcDateTime;
        return left > TimeSpan.Zero ? left : null;
    }

    /// <summary>When sending may resume (now, when there is no pause).</summary>
    public DateTime ResumeAt(TimeProvider clock)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            return _pausedUntil > now ? _pausedUntil : now;
        }
    }

    /// <summary>Registers a throttling reply. Returns the new limits when this reply started a new
    /// slowdown; null when it belongs to one already under way (other connections' messages in flight).</summary>
    public Slowdown? OnThrottled(DateTime now)
    {
        lock (_gate)
        {
            if (now < _pausedUntil)
            {
                return null;
            }
            if (now - _lastThrottled > options.ThrottleRecovery + (_pausedUntil - _lastThrottled))
            {
                _episodes = 0; // quiet for a while: start the backoff from the beginning again
            }
            _episodes++;
            _allowed = Math.Max(1, _allowed / 2);
            var pause = Backoff.Exponential(_episodes, options.ThrottleDelay, options.MaxRetryDelay);
            _pausedUntil = now + pause;
            _lastThrottled = now;
            _lastRecovered = _pausedUntil;
            return new Slowdown(_allowed, pause);
        }
    }

    /// <summary>An accepted message: after a quiet <see cref="DeliveryOptions.ThrottleRecovery"/>, one more connection.</summary>
    public void OnAccepted(DateTime now)
    {
        if (Volatile.Read(ref _allowed) >= _max)
        {
            return;
        }
        lock (_gate)
        {
            if (_allowed < _max && now - _lastRecovered >= options.ThrottleRecovery)
            {
                _allowed++;
                _lastRecovered = now;
            }
        }
    }
}
