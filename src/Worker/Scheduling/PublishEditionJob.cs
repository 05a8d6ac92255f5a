using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Publishing;
using Quartz;

namespace Newsletter.Worker.Scheduling;

/// <summary>Fires at each slot of one edition and publishes it. Safe to fire twice for a slot:
/// the publication's uniqueness per (edition, slot) makes the second fire a no-op.</summary>
[DisallowConcurrentExecution]
public sealed class PublishEditionJob(Publisher publisher, DeliverySignal signal, ILogger<PublishEditionJob> logger) : IJob
{
    public const string EditionKey = "edition";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var edition = context.MergedJobDataMap.GetString(EditionKey)
            ?? throw new JobExecutionException("the job has no edition");
        // The scheduled time, not the moment the job ran: a late fire still belongs to its slot.
        var slot = context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        using var span = NewsletterMetrics.Tracing.StartActivity("publish")?.SetTag("newsletter.edition", edition);
        try
        {
            var result = await publisher.PublishSlotAsync(edition, slot, PublicationKind.Scheduled, cancellationToken);
            span?.SetTag("newsletter.publication.id", result.Publication?.Id).SetTag("newsletter.publish.outcome", result.Outcome.ToString());
            if (result.Outcome == PublishOutcome.Published)
            {
                signal.Notify();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "{Edition}: publishing the slot {Slot:u} failed", edition, slot);
            throw new JobExecutionException(ex);
        }
    }
}
