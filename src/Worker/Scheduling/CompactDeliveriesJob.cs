using Newsletter.Worker.Delivery;
using Quartz;

namespace Newsletter.Worker.Scheduling;

/// <summary>Compacts the delivery rows of publications past <c>Delivery:KeepDeliveryRowsFor</c>, every six
/// hours from ten minutes after start (a start stays quick); off when the setting is zero. Harmless on
/// several instances at once: each chunk is counted and deleted in one transaction.</summary>
[DisallowConcurrentExecution]
public sealed partial class CompactDeliveriesJob(DeliveryCompaction compaction, ILogger<CompactDeliveriesJob> logger) : IJob
{
    public static readonly JobKey Key = new("compact-deliveries");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            await compaction.CompactAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // What was committed stays committed; the next run carries on from there.
            LogFailed(logger, ex);
        }
    }

    internal static void Configure(IQuartzBuilder quartz, IConfiguration configuration)
    {
        var options = new DeliveryOptions();
        configuration.GetSection(DeliveryOptions.Section).Bind(options);
        if (options.KeepDeliveryRowsFor <= TimeSpan.Zero)
        {
            return;
        }
        quartz.AddJob<CompactDeliveriesJob>(j => j.WithIdentity(Key));
        quartz.AddTrigger(t => t.ForJob(Key).WithIdentity("compact-deliveries-every")
            .StartAt(TimeProvider.System.GetUtcNow().AddMinutes(10))
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromHours(6)).RepeatForever()
                .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compacting old delivery rows failed; the next run carries on")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
