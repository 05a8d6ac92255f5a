using Microsoft.Extensions.Options;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Publishing;
using Quartz;

namespace Newsletter.Worker.Scheduling;

/// <summary>One look at what editors should hear about: per edition, the first coming slot within
/// <c>Editors:EmptySlotWarning</c> that the plan shows with nothing queued, then finished publications
/// with no summary yet.</summary>
public sealed partial class EditorNotificationsCheck(
    EditionPlan plan, EditorNotifications notifications, IOptions<EditionsOptions> editions, IOptions<EditorsOptions> options,
    ILogger<EditorNotificationsCheck> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var window = options.Value.EmptySlotWarning;
        foreach (var key in window > TimeSpan.Zero ? editions.Value.Keys : [])
        {
            try
            {
                // The plan page's own forecast: a slot is empty when it shows neither an issue nor a publication.
                var slots = await plan.SlotsAsync(key, TimeSpan.Zero, window, cancellationToken);
                if (slots.FirstOrDefault(s => !s.Past && s.Publication is null && s.Issue is null) is { } empty)
                {
                    await notifications.WarnEmptySlotAsync(new EmptySlot(key, empty.SlotUtc, empty.When, empty.Day), cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWarningFailed(logger, ex, key);
            }
        }
        await notifications.SendSummariesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Edition}: looking for an empty slot to warn the editors about failed; trying again at the next check")]
    private static partial void LogWarningFailed(ILogger logger, Exception ex, string edition);
}

/// <summary>Runs <see cref="EditorNotificationsCheck"/> every <c>Editors:NotificationInterval</c>, the first time one
/// interval after start. Several instances at once are harmless: each email is claimed in the database before it goes.</summary>
[DisallowConcurrentExecution]
public sealed partial class EditorNotificationsJob(EditorNotificationsCheck check, ILogger<EditorNotificationsJob> logger) : IJob
{
    public static readonly JobKey Key = new("editor-notifications");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            await check.RunAsync(cancellationToken);
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
        var options = new EditorsOptions();
        configuration.GetSection(EditorsOptions.Section).Bind(options);
        // An out-of-range interval is reported by options validation at start; fall back here.
        var interval = options.NotificationInterval >= TimeSpan.FromMinutes(1) ? options.NotificationInterval : TimeSpan.FromMinutes(5);
        quartz.AddJob<EditorNotificationsJob>(j => j.WithIdentity(Key));
        quartz.AddTrigger(t => t.ForJob(Key).WithIdentity("editor-notifications-every")
            .StartAt(TimeProvider.System.GetUtcNow() + interval)
            .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Emailing the editors failed; trying again at the next check")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
