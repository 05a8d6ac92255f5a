using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Databases;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>Pause, resume, cancel, the error budget, stale slots, send-time checks and graceful shutdown.</summary>
public class PublicationControlTests
{
    /// <summary>Slow enough that a test can act while the send is under way.</summary>
    private static void Slow(Newsletter.Tests.Infrastructure.TestApp app) => app.Set("Delivery:MessagesPerSecond", "60");

    [DatabaseFact]
    public async Task A_paused_send_stops_with_nothing_claimed_and_resuming_it_delivers_the_rest_exactly_once()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: Slow);
        await world.AddSubscribersAsync(60);
        var publicationId = await world.PublishAsync();

        var run = world.RunAsync(publicationId);
        await world.Smtp.WaitForMessagesAsync(5, TimeSpan.FromSeconds(30));
        var pause = await world.App.RunCliOkAsync("publications", "pause", $"{publicationId}");
        Assert.Contains("paused", pause.Out);
        var paused = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(PublicationStatus.Paused, (await world.PublicationAsync(publicationId)).Status);
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.DoesNotContain(deliveries, d => d.Status == DeliveryStatus.Claimed);
        Assert.True(paused.Sent < 60, "the pause stopped the send before the end");
        // Every message the server accepted is recorded as sent: nothing was in flight unrecorded.
        Assert.Equal(world.Smtp.Messages.Count, deliveries.Count(d => d.Status == DeliveryStatus.Sent));
        var show = await world.App.RunCliOkAsync("publications", "show", $"{publicationId}");
        Assert.Contains("status:     paused", show.Out);

        Assert.Contains("sending again", (await world.App.RunCliOkAsync("publications", "resume", $"{publicationId}")).Out);
        var final = await world.RunAsync(publicationId);

        Assert.Equal(60, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 60), i => Assert.Equal(1, received[DeliveryWorld.Email(i)]));
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    [DatabaseFact]
    public async Task A_cancelled_send_stops_and_marks_everyone_not_yet_mailed_as_cancelled()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: Slow);
        await world.AddSubscribersAsync(60);
        var publicationId = await world.PublishAsync();

        var run = world.RunAsync(publicationId);
        await world.Smtp.WaitForMessagesAsync(5, TimeSpan.FromSeconds(30));
        Assert.Contains("cancelled", (await world.App.RunCliOkAsync("publications", "cancel", $"{publicationId}")).Out);
        var final = await run.WaitAsync(TimeSpan.FromSeconds(30));

        var publication = await world.PublicationAsync(publicationId);
        Assert.Equal(PublicationStatus.Cancelled, publication.Status);
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.All(deliveries, d => Assert.Contains(d.Status, new[] { DeliveryStatus.Sent, DeliveryStatus.Cancelled }));
        Assert.Equal(world.Smtp.Messages.Count, deliveries.Count(d => d.Status == DeliveryStatus.Sent));
        Assert.Equal(60 - final.Sent, final.Unsent);
        Assert.True(final.Unsent > 0);

        // Nothing more goes out, and a cancelled publication cannot be resumed.
        Assert.Equal(1, (await world.App.RunCliAsync("publications", "resume", $"{publicationId}")).ExitCode);
        await world.RunAsync(publicationId);
        Assert.Equal(final.Sent, world.Smtp.Messages.Count);
    }

    [DatabaseFact]
    public async Task Errors_past_the_budget_pause_the_publication_and_the_log_and_note_say_why()
    {
        await using var world = await DeliveryWorld.StartAsync(
            SmtpScript.ForRecipients((_, _) => SmtpReplyDecision.MailboxBusy),
            app => app.Set("Delivery:ErrorBudget", "5").Set("Delivery:MaxAttempts", "100"));
        await world.AddSubscribersAsync(10);
        var publicationId = await world.PublishAsync();

        await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(30));

        var publication = await world.PublicationAsync(publicationId);
        Assert.Equal(PublicationStatus.Paused, publication.Status);
        Assert.Contains("budget is 5", publication.Note);
        Assert.Contains("450", publication.Note);
        Assert.True(world.Logs.Contains(LogLevel.Error, "paused after"), "the log says why the publication paused");
        Assert.DoesNotContain(await world.DeliveriesAsync(publicationId), d => d.Status == DeliveryStatus.Claimed);
        Assert.Contains("paused after", (await world.App.RunCliOkAsync("publications", "show", $"{publicationId}")).Out);
    }

    [DatabaseFact]
    public async Task A_publication_older_than_the_editions_maximum_age_stops_as_stale_and_mails_nobody()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(5);
        var publicationId = await world.PublishAsync();
        await MoveSlotBackAsync(world, publicationId, TimeSpan.FromDays(3)); // weekly-tip's limit is 2 days

        var final = await world.RunAsync(publicationId);

        var publication = await world.PublicationAsync(publicationId);
        Assert.Equal(PublicationStatus.Stale, publication.Status);
        Assert.Contains("stale news", publication.Note);
        Assert.Empty(world.Smtp.Messages);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Expired, d.Status));
        Assert.Equal(5, final.Unsent);
        Assert.True(world.Logs.Contains(LogLevel.Warning, "were not mailed"), "the stop is reported");
        Assert.Contains("stale", (await world.App.RunCliOkAsync("publications", "list")).Out);
    }

    [DatabaseFact]
    public async Task A_paused_publication_that_goes_stale_is_stopped_by_the_services_sweep()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(3);
        var publicationId = await world.PublishAsync();
        await world.App.RunCliOkAsync("publications", "pause", $"{publicationId}");
        await MoveSlotBackAsync(world, publicationId, TimeSpan.FromDays(3));

        await using (var scope = world.Host.CreateScope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<PublicationControl>().StopStalePublicationsAsync());
        }

        Assert.Equal(PublicationStatus.Stale, (await world.PublicationAsync(publicationId)).Status);
        Assert.All(await world.DeliveriesAsync(publicationId), d => Assert.Equal(DeliveryStatus.Expired, d.Status));
    }

    [DatabaseFact]
    public async Task Someone_who_unsubscribes_or_is_suppressed_after_the_snapshot_is_skipped_at_send_time_and_recorded_as_skipped()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(6);
        var publicationId = await world.PublishAsync();
        await using (var db = world.App.OpenDb())
        {
            await db.Subscriptions.Where(s => s.SubscriberId == 2 && s.Edition == DeliveryWorld.Edition)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed));
            db.Suppressions.Add(new Suppression
            {
                EmailHash = TestApp.AddressHash(DeliveryWorld.Email(5)),
                Reason = SuppressionReason.Complaint,
                CreatedAt = DateTime.SpecifyKind(new DateTime(2026, 1, 5), DateTimeKind.Utc),
            });
            await db.SaveChangesAsync();
        }

        var final = await world.RunAsync(publicationId);

        Assert.Equal((4, 2), (final.Sent, final.Skipped));
        var received = world.ReceivedCounts();
        Assert.False(received.ContainsKey(DeliveryWorld.Email(2)));
        Assert.False(received.ContainsKey(DeliveryWorld.Email(5)));
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.Contains("unsubscribed", deliveries.Single(d => d.SubscriberId == 2).LastResult);
        Assert.Contains("suppression", deliveries.Single(d => d.SubscriberId == 5).LastResult);
        Assert.All(deliveries.Where(d => d.SubscriberId is 2 or 5), d => Assert.Equal(DeliveryStatus.Skipped, d.Status));
    }

    [DatabaseFact]
    public async Task On_shutdown_messages_in_flight_are_finished_and_recorded_and_other_claims_are_released()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: Slow);
        await world.AddSubscribersAsync(60);
        var publicationId = await world.PublishAsync();

        using var shutdown = new CancellationTokenSource();
        var run = world.RunAsync(publicationId, shutdown.Token);
        await world.Smtp.WaitForMessagesAsync(5, TimeSpan.FromSeconds(30));
        await shutdown.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.DoesNotContain(deliveries, d => d.Status == DeliveryStatus.Claimed);
        Assert.Equal(world.Smtp.Messages.Count, deliveries.Count(d => d.Status == DeliveryStatus.Sent));
        Assert.Equal(PublicationStatus.Sending, (await world.PublicationAsync(publicationId)).Status);

        // The next start carries on where this one stopped.
        var final = await world.RunAsync(publicationId);
        Assert.Equal(60, final.Sent);
        Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
        Assert.Equal(60, world.ReceivedCounts().Count);
    }

    [DatabaseFact]
    public async Task A_stop_between_claiming_a_batch_and_reading_it_back_still_hands_the_batch_back()
    {
        using var shutdown = new CancellationTokenSource();
        var stopAfterClaim = new StopAfterFirstClaim(shutdown);
        await using var world = await DeliveryWorld.StartAsync(
            services: s => s.ConfigureNewsletterDb(o => o.AddInterceptors(stopAfterClaim)));
        await world.AddSubscribersAsync(20);
        var publicationId = await world.PublishAsync();

        await world.RunAsync(publicationId, shutdown.Token).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(stopAfterClaim.Fired);
        Assert.Empty(world.Smtp.Messages);
        Assert.All(await world.DeliveriesAsync(publicationId), d =>
        {
            Assert.Equal(DeliveryStatus.Pending, d.Status);
            Assert.Null(d.LeaseOwner);
        });

        // Nothing waits for a lease to run out: the next start sends to everyone at once, once.
        var final = await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(20, final.Sent);
        Assert.Equal(20, world.ReceivedCounts().Count);
        Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
    }

    // Guards the state a crash can leave between an accepted message and its batch being filed (the
    // reply is on the row, which is still claimed): that reader counts as sent at once, is filed as
    // sent when the dead sender's lease has run out, and is never handed to a server again; the
    // dead sender's other claims (never handed over) are sent once.
    [DatabaseFact]
    public async Task A_message_accepted_before_its_sender_died_counts_as_sent_and_is_never_mailed_again()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(10);
        var publicationId = await world.PublishAsync();
        await AbandonAsync(world, publicationId, accepted: [1, 2, 3], inFlight: [4, 5]);

        await using (var db = world.App.OpenDb())
        {
            var before = await PublicationProgress.ReadAsync(db, publicationId, CancellationToken.None);
            Assert.Equal(3, before.Sent);
            Assert.Equal(7, before.Pending);
        }

        var final = await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(10, final.Sent);
        var received = world.ReceivedCounts();
        Assert.All(Enumerable.Range(1, 3), i => Assert.False(received.ContainsKey(DeliveryWorld.Email(i)), $"reader{i} was mailed again"));
        Assert.All(Enumerable.Range(4, 7), i => Assert.Equal(1, received[DeliveryWorld.Email(i)]));
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.All(deliveries, d => Assert.Equal(DeliveryStatus.Sent, d.Status));
        Assert.Equal(3, deliveries.Count(d => d.LastResult == DeadReply && d.LeaseOwner is null));
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    // Guards cancel against the same state: what the server accepted was sent, whatever happened to
    // the publication afterwards; only the readers never handed over are marked cancelled.
    [DatabaseFact]
    public async Task Cancelling_files_a_message_accepted_before_its_sender_died_as_sent_not_cancelled()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(6);
        var publicationId = await world.PublishAsync();
        await AbandonAsync(world, publicationId, accepted: [1, 2], inFlight: [3]);

        Assert.Contains("cancelled", (await world.App.RunCliOkAsync("publications", "cancel", $"{publicationId}")).Out);

        var byReader = (await world.DeliveriesAsync(publicationId)).ToDictionary(d => d.SubscriberId, d => d.Status);
        var ids = await SubscriberIdsAsync(world, [1, 2]);
        Assert.All(byReader, pair => Assert.Equal(ids.Contains(pair.Key) ? DeliveryStatus.Sent : DeliveryStatus.Cancelled, pair.Value));
        Assert.Empty(world.Smtp.Messages);
    }

    private const string DeadReply = "250 2.0.0 Ok: queued as DEAD1";

    /// <summary>Leaves readers as a process killed mid-send leaves them: <paramref name="accepted"/>
    /// accepted by the server and recorded, <paramref name="inFlight"/> claimed and not handed over;
    /// the dead process's lease ran out a minute ago.</summary>
    private static async Task AbandonAsync(DeliveryWorld world, int publicationId, int[] accepted, int[] inFlight)
    {
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var acceptedIds = await SubscriberIdsAsync(world, accepted);
        var inFlightIds = await SubscriberIdsAsync(world, inFlight);
        await using var db = world.App.OpenDb();
        Assert.Equal(accepted.Length, await db.Deliveries
            .Where(d => d.PublicationId == publicationId && acceptedIds.Contains(d.SubscriberId))
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, DeliveryStatus.Claimed)
                .SetProperty(d => d.LeaseOwner, "dead-host:1:0000")
                .SetProperty(d => d.LeaseExpiresAt, now.AddMinutes(-1))
                .SetProperty(d => d.Attempts, 1)
                .SetProperty(d => d.FirstAttemptAt, now.AddMinutes(-6))
                .SetProperty(d => d.CompletedAt, now.AddMinutes(-6))
                .SetProperty(d => d.ReplyCode, 250)
                .SetProperty(d => d.LastResult, DeadReply)));
        Assert.Equal(inFlight.Length, await db.Deliveries
            .Where(d => d.PublicationId == publicationId && inFlightIds.Contains(d.SubscriberId))
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, DeliveryStatus.Claimed)
                .SetProperty(d => d.LeaseOwner, "dead-host:1:0000")
                .SetProperty(d => d.LeaseExpiresAt, now.AddMinutes(-1))));
    }

    private static async Task<List<int>> SubscriberIdsAsync(DeliveryWorld world, int[] readers)
    {
        var emails = readers.Select(DeliveryWorld.Email).ToList();
        await using var db = world.App.OpenDb();
        return await db.Subscribers.Where(s => emails.Contains(s.Email)).Select(s => s.Id).ToListAsync();
    }

    /// <summary>Stops the send the moment the engine's first claim has been written, before the
    /// engine reads the claimed rows back: the narrowest window in which claims could be lost.</summary>
    private sealed class StopAfterFirstClaim(CancellationTokenSource stop) : ClaimWatcher
    {
        private int _fired;

        public bool Fired => Volatile.Read(ref _fired) == 1;

        protected override void OnClaim(int rows)
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                stop.Cancel();
            }
        }
    }

    private static async Task MoveSlotBackAsync(DeliveryWorld world, int publicationId, TimeSpan by)
    {
        await using var db = world.App.OpenDb();
        var slot = (await db.Publications.AsNoTracking().FirstAsync(p => p.Id == publicationId)).SlotUtc - by;
        await db.Publications.Where(p => p.Id == publicationId).ExecuteUpdateAsync(u => u.SetProperty(p => p.SlotUtc, slot));
    }
}
