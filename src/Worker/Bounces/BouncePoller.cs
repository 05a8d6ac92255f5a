using Microsoft.Extensions.Options;

namespace Newsletter.Worker.Bounces;

/// <summary>
/// Reads the bounce mailbox every <c>Bounces:PollInterval</c> while the service runs. A mailbox that
/// is down is tried again after the interval, doubling up to <c>Bounces:MaxRetryDelay</c>; each poll's
/// outcome is kept for <c>bounces status</c>. <c>bounces poll</c> runs one poll from the command line.
/// </summary>
public sealed partial class BouncePoller(
    IServiceScopeFactory scopes, BounceMailbox mailbox, IOptions<BouncesOptions> options, TimeProvider time, ILogger<BouncePoller> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public bool Enabled => options.Value.Protocol is not null;

    /// <summary>One poll, recorded in the status. Throws what the mailbox threw, after recording it.</summary>
    public async Task<MailboxPoll> PollOnceAsync(CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var store = scope.ServiceProvider.GetRequiredService<BounceStatusStore>();
            var before = await store.ReadAsync(cancellationToken);
            var started = time.GetUtcNow().UtcDateTime;
            try
            {
                var poll = await mailbox.PollAsync(scope.ServiceProvider.GetRequiredService<BounceProcessor>(), cancellationToken);
                await store.WriteAsync(new MailboxStatus(started, time.GetUtcNow().UtcDateTime, before?.LastError, before?.LastErrorAt, 0,
                    time.GetUtcNow().UtcDateTime + options.Value.PollInterval, poll), cancellationToken);
                return poll;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failures = (before?.ConsecutiveFailures ?? 0) + 1;
                await store.WriteAsync(new MailboxStatus(started, before?.LastSuccessAt, OneLine(ex), time.GetUtcNow().UtcDateTime, failures,
                    time.GetUtcNow().UtcDateTime + RetryDelay(failures), before?.LastPoll), CancellationToken.None);
                throw;
            }
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>After the n-th failure in a row: the poll interval, doubled each time, up to the maximum.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        var o = options.Value;
        var delay = o.PollInterval * Math.Pow(2, Math.Min(failures - 1, 20));
        return delay < o.MaxRetryDelay ? delay : o.MaxRetryDelay;
    }

    public static string OneLine(Exception ex) =>
        (ex.InnerException is { } inner && ex is not MailKit.Security.AuthenticationException ? $"{ex.Message} ({inner.Message})" : ex.Message)
            .ReplaceLineEndings(" ");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        LogStarted(logger, options.Value.Describe());
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                var poll = await PollOnceAsync(stoppingToken);
                failures = 0;
                delay = options.Value.PollInterval;
                if (poll.Read > 0)
                {
                    LogPolled(logger, poll.Read, poll.Acted, poll.Duplicates, poll.Unreadable, poll.Kept);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Expected when the mailbox is down: one line, no stack trace; nothing was lost (see BounceMailbox).
                failures++;
                delay = RetryDelay(failures);
                LogFailed(logger, OneLine(ex), delay);
            }
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _one.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading bounces from {Mailbox}")]
    private static partial void LogStarted(ILogger logger, string mailbox);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Bounce mailbox: {Read} read, {Acted} acted on, {Duplicates} seen before, {Unreadable} unreadable, {Kept} left for a person")]
    private static partial void LogPolled(ILogger logger, int read, int acted, int duplicates, int unreadable, int kept);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the bounce mailbox failed: {Error}; next try in {Delay}")]
    private static partial void LogFailed(ILogger logger, string error, TimeSpan delay);
}
