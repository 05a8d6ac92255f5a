using Newsletter.Subscribers;
using Newsletter.Subscribers.Maintenance;
using Quartz;

namespace Newsletter.Worker.Scheduling;

/// <summary>Deletes sign-ups nobody confirmed, every <c>Subscribers:PurgeInterval</c> (first run at
/// start). The purge is idempotent, so a run on several instances at once is harmless.</summary>
[DisallowConcurrentExecution]
public sealed partial class PurgeUnconfirmedJob(UnconfirmedPurge purge, ILogger<PurgeUnconfirmedJob> logger) : IJob
{
    public static readonly JobKey Key = new("purge-unconfirmed");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            var result = await purge.PurgeAsync(cancellationToken);
            if (result.SignupsDeleted > 0 || result.ReturnsDropped > 0)
            {
                LogPurged(logger, result.SignupsDeleted, result.ReturnsDropped);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, ex);
            throw new JobExecutionException(ex);
        }
    }

    /// <summary>Adds the job and its trigger to Quartz.</summary>
    internal static void Configure(IQuartzBuilder quartz, IConfiguration configuration)
    {
        var options = new SubscriberOptions();
        configuration.GetSection(SubscriberOptions.Section).Bind(options);
        // An out-of-range interval is reported by options validation at start; fall back here.
        var interval = options.PurgeInterval >= TimeSpan.FromMinutes(1) ? options.PurgeInterval : TimeSpan.FromHours(1);
        quartz.AddJob<PurgeUnconfirmedJob>(j => j.WithIdentity(Key));
        quartz.AddTrigger(t => t.ForJob(Key).WithIdentity("purge-unconfirmed-every")
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purge: {Signups} unconfirmed sign-up(s) deleted, {Returns} unconfirmed edition request(s) dropped")]
    private static partial void LogPurged(ILogger logger, int signups, int returns);

    [LoggerMessage(Level = LogLevel.Error, Message = "Purging unconfirmed sign-ups failed")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
