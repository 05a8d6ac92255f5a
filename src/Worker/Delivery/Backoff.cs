namespace Newsletter.Worker.Delivery;

internal static class Backoff
{
    /// <summary>Exponential backoff with jitter: base × 2^(attempt−1), times 0.5–1, capped.</summary>
    public static TimeSpan Exponential(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(attempt, 1) - 1, 20));
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() / 2));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, max.TotalMilliseconds));
    }
}
