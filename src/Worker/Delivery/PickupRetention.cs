using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Deletes pickup files (<c>.eml</c>, and <c>.tmp</c> left by a crash mid-write) last written longer than
/// <see cref="DeliveryOptions.PickupRetention"/> ago: each holds a reader's address and live personal
/// links, and erasure cannot reach a file. Only the folder's own files; subfolders and other files stay.
/// </summary>
public sealed partial class PickupRetention(IOptions<DeliveryOptions> options, TimeProvider time, ILogger<PickupRetention> logger)
{
    /// <summary>How many files were deleted (0 when retention is off or the folder does not exist).</summary>
    public int RemoveExpired()
    {
        var o = options.Value;
        var directory = Path.GetFullPath(o.PickupDirectory);
        if (o.PickupRetention <= TimeSpan.Zero || !Directory.Exists(directory))
        {
            return 0;
        }
        var cutoff = time.GetUtcNow().UtcDateTime - o.PickupRetention;
        int removed = 0, failed = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles())
        {
            if (file.Extension is not (".eml" or ".tmp") || file.LastWriteTimeUtc >= cutoff)
            {
                continue;
            }
            try
            {
                file.Delete();
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failed++;
            }
        }
        if (removed > 0)
        {
            LogRemoved(logger, directory, removed, PublicationControl.Describe(o.PickupRetention));
        }
        if (failed > 0)
        {
            LogNotRemoved(logger, directory, failed);
        }
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pickup folder {Directory}: deleted {Removed} message file(s) older than {Retention}")]
    private static partial void LogRemoved(ILogger logger, string directory, int removed, string retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pickup folder {Directory}: {Failed} old message file(s) could not be deleted; trying again in an hour")]
    private static partial void LogNotRemoved(ILogger logger, string directory, int failed);
}

/// <summary>In the running service: <see cref="PickupRetention"/> at start and every <see cref="Interval"/>.</summary>
public sealed partial class PickupRetentionService(PickupRetention retention, TimeProvider time, ILogger<PickupRetentionService> logger)
    : BackgroundService
{
    /// <summary>A file outlives its retention by at most this much.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                retention.RemoveExpired();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogFailed(logger, ex.Message);
            }
            await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Clearing old files from the pickup folder failed: {Error}; trying again in an hour")]
    private static partial void LogFailed(ILogger logger, string error);
}
