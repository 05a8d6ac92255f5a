using Newsletter.Worker.Data;
using Quartz;

namespace Newsletter.Worker.Scheduling;

/// <summary>Refreshes SQLite's statistics of the readers' tables every <c>Database:StatisticsInterval</c>
/// (first run at start, in the background); zero turns it off. Harmless on several instances at once.</summary>
[DisallowConcurrentExecution]
public sealed partial class DatabaseStatisticsJob(NewsletterDbContext db, ILogger<DatabaseStatisticsJob> logger) : IJob
{
    public static readonly JobKey Key = new("database-statistics");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            await DatabaseStatistics.RefreshAsync(db, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only query plans depend on it: a failure is logged and the next run tries again.
            LogFailed(logger, ex);
        }
    }

    /// <summary>Adds the job and its trigger to Quartz, unless the interval is zero.</summary>
    internal static void Configure(IQuartzBuilder quartz, IConfiguration configuration)
    {
        var options = new DatabaseOptions();
        configuration.GetSection(DatabaseOptions.Section).Bind(options);
        if (options.StatisticsInterval <= TimeSpan.Zero)
        {
            return;
        }
        quartz.AddJob<DatabaseStatisticsJob>(j => j.WithIdentity(Key));
        quartz.AddTrigger(t => t.ForJob(Key).WithIdentity("database-statistics-every")
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(options.StatisticsInterval).RepeatForever()
                .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the database's statistics failed; the next run tries again")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
