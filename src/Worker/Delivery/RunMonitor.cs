using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Watches a run from beside its senders: adds their errors to the publication's count (pausing it past
/// the budget), stops the run when the publication is paused, cancelled or stale, reports progress at a
/// steady pace, and marks the publication completed when nothing is outstanding.
/// </summary>
internal sealed class RunMonitor(IServiceScopeFactory scopes, DeliveryOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>How often a run checks its publication's status (pause, cancel, stale) and flushes its error count.</summary>
    public static readonly TimeSpan ControlInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Every <see cref="ControlInterval"/>: adds this run's new errors to the publication's count
    /// (pausing it past the budget), and stops the run when the publication is no longer sending
    /// (paused, cancelled) or has gone stale.
    /// </summary>
    public async Task ControlAsync(SendRun run, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(ControlInterval, time, cancellationToken);
                await using var scope = scopes.CreateAsyncScope();
                try
                {
                    var sp = scope.ServiceProvider;
                    await FlushErrorsAsync(sp, run, cancellationToken);
                    var db = sp.GetRequiredService<NewsletterDbContext>();
                    var publication = await db.Publications.AsNoTracking().FirstAsync(p => p.Id == run.Publication.Id, cancellationToken);
                    if (publication.Status != PublicationStatus.Sending
                        || await sp.GetRequiredService<PublicationControl>().StopIfStaleAsync(publication, cancellationToken))
                    {
                        run.Stop();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Publication {PublicationId}: checking its status failed; trying again", run.Publication.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    public async Task FlushErrorsAsync(IServiceProvider services, SendRun run, CancellationToken cancellationToken)
    {
        var errors = run.TakeErrors();
        if (errors == 0)
        {
            return;
        }
        var db = services.GetRequiredService<NewsletterDbContext>();
        var id = run.Publication.Id;
        await db.Publications.Where(p => p.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.ErrorCount, p => p.ErrorCount + errors), CancellationToken.None);
        var budget = options.ErrorBudget;
        if (budget <= 0)
        {
            return;
        }
        var total = await db.Publications.Where(p => p.Id == id).Select(p => p.ErrorCount).FirstAsync(cancellationToken);
        if (total <= budget)
        {
            return;
        }
        var note = $"paused after {total} delivery errors (the budget is {budget}); last error: {run.LastError}. " +
                   $"Check the SMTP server and settings, then run 'newsletter publications resume {id}'";
        if (await services.GetRequiredService<PublicationControl>().PauseForErrorsAsync(id, note, CancellationToken.None))
        {
            logger.LogError("Publication {PublicationId} ({Edition}) {Note}", id, run.Publication.Edition, note);
        }
        run.Stop();
    }

    /// <summary>Progress at a steady pace (count, percent, rate, ETA), never per message.</summary>
    public async Task ReportProgressAsync(SendRun run, IProgress<PublicationProgress>? progress, CancellationToken cancellationToken)
    {
        var interval = options.ProgressInterval;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<NewsletterDbContext>();
            var start = await PublicationProgress.ReadAsync(db, run.Publication.Id, cancellationToken);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(interval, time, cancellationToken);
                var p = await PublicationProgress.ReadAsync(db, run.Publication.Id, cancellationToken);
                // The rate counts every process sharing the send, from the database.
                p = p.WithRate((p.Done - start.Done) / Math.Max(clock.Elapsed.TotalSeconds, 0.001));
                progress?.Report(p);
                logger.LogInformation("Publication {PublicationId} ({Edition}): {Progress}", run.Publication.Id, run.Publication.Edition, p);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Publication {PublicationId}: progress reporting stopped", run.Publication.Id);
        }
    }

    /// <summary>After the senders: the last errors counted, a stopped publication's claims settled, and
    /// the publication completed if nothing is outstanding. If the database refuses, the next run does it.</summary>
    public async Task EndRunAsync(IServiceProvider services, SendRun run, DeliveryWrites writes)
    {
        try
        {
            await FlushErrorsAsync(services, run, CancellationToken.None);
            await services.GetRequiredService<PublicationControl>().SettleAsync(run.Publication.Id, CancellationToken.None);
            await CompleteIfDoneAsync(services.GetRequiredService<NewsletterDbContext>(), run.Publication.Id, CancellationToken.None);
        }
        catch (Exception ex) when (DeliveryWrites.IsWriteFailure(ex))
        {
            writes.Failed(run.Publication.Id, ex);
        }
    }

    /// <summary>Marks the publication completed once no delivery is outstanding.</summary>
    public async Task CompleteIfDoneAsync(NewsletterDbContext db, int publicationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Publications
            .Where(p => p.Id == publicationId && p.Status == PublicationStatus.Sending
                && !db.Deliveries.Any(d => d.PublicationId == publicationId
                    && (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Claimed)))
            .ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Status, PublicationStatus.Completed)
                .SetProperty(p => p.CompletedAt, now), cancellationToken);
    }
}
