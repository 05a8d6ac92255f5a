using Newsletter.Worker.Editions;
using Quartz;

namespace Newsletter.Worker.Scheduling;

public static class SchedulingExtensions
{
    /// <summary>
    /// Quartz in the host, one cron trigger per edition in the edition's time zone. The job store
    /// is in memory on purpose: what must survive restarts (which slots were published) lives in
    /// the database, guarded by a unique index, and missed slots are handled by <see cref="SlotCatchUp"/>,
    /// so triggers never replay missed fires themselves.
    /// </summary>
    public static IHostApplicationBuilder AddNewsletterScheduling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulingOptions>().BindConfiguration(SchedulingOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<SlotCatchUp>();
        builder.Services.AddScoped<EditorNotificationsCheck>();
        var enabled = builder.Configuration.GetValue($"{SchedulingOptions.Section}:{nameof(SchedulingOptions.Enabled)}", true);
        if (!enabled)
        {
            return builder;
        }
        var editions = new EditionsOptions();
        EditionsExtensions.BindEditions(editions, builder.Configuration.GetSection(EditionsOptions.Section));

        builder.Services.AddQuartz(q =>
        {
            PurgeUnconfirmedJob.Configure(q, builder.Configuration);
            EditorNotificationsJob.Configure(q, builder.Configuration);
            DatabaseStatisticsJob.Configure(q, builder.Configuration);
            CompactDeliveriesJob.Configure(q, builder.Configuration);
            foreach (var (key, edition) in editions.Items)
            {
                // Invalid values are reported by options validation at start; skip them here.
                if (!CronExpression.TryParse(edition.Schedule, out _)
                    || !TimeZoneInfo.TryFindSystemTimeZoneById(edition.TimeZone, out var zone))
                {
                    continue;
                }
                var job = new JobKey($"publish-{key}");
                q.AddJob<PublishEditionJob>(j => j.WithIdentity(job).UsingJobData(PublishEditionJob.EditionKey, key));
                q.AddTrigger(t => t
                    .ForJob(job)
                    .WithIdentity($"slot-{key}")
                    .WithCronSchedule(edition.Schedule, c => c.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
            }
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        builder.Services.AddHostedService<SlotCatchUpService>();
        return builder;
    }
}
