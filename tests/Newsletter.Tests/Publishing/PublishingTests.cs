using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Publishing;
using Newsletter.Worker.Scheduling;

namespace Newsletter.Tests.Publishing;

/// <summary>Slots become publications once, with a recipient snapshot; missed slots are caught up or recorded.</summary>
public sealed class PublishingTests : IAsyncLifetime
{
    private const string Tip = "weekly-tip";

    // Tip of the Week goes out on Thursdays at 09:00 New York time.
    private static readonly DateTimeOffset Nov5 = Utc(2026, 11, 5, 14);   // Thu 5 Nov 2026 09:00 EST
    private static readonly DateTimeOffset Nov12 = Utc(2026, 11, 12, 14);
    private static readonly DateTimeOffset Nov19 = Utc(2026, 11, 19, 14);
    private static readonly DateTimeOffset Oct8 = Utc(2026, 10, 8, 13);   // Thu 8 Oct 2026 09:00 EDT
    private static readonly DateTimeOffset Oct15 = Utc(2026, 10, 15, 13);
    private static readonly DateTimeOffset Oct22 = Utc(2026, 10, 22, 13);
    private static readonly DateTimeOffset Oct29 = Utc(2026, 10, 29, 13);

    private readonly FakeTimeProvider _time = new(Utc(2026, 10, 1, 12));
    private TestApp _app = null!;
    private TestHost _host = null!;

    public async Task InitializeAsync()
    {
        _app = TestApp.Create();
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _app.DisposeAsync();
    }

    private async Task StartAsync()
    {
        // The catch-up is the scheduler's (the running service adds it with its schedules).
        _host = await _app.StartHostAsync(s => s.AddSingleton<TimeProvider>(_time).AddScoped<SlotCatchUp>());
    }

    private static DateTimeOffset Utc(int y, int m, int d, int h, int min = 0) => new(y, m, d, h, min, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_doubled_fire_for_the_same_slot_publishes_once()
    {
        var first = await QueueAsync("First tip");
        var second = await QueueAsync("Second tip");
        var recipients = await AddSubscribersAsync(3, Tip);
        _time.SetUtcNow(Nov5);

        var fire1 = await PublishSlotAsync(Nov5);
        var fire2 = await PublishSlotAsync(Nov5);

        Assert.Equal(PublishOutcome.Published, fire1.Outcome);
        Assert.Equal(PublishOutcome.AlreadyDone, fire2.Outcome);
        Assert.Null(fire2.Publication);
        await using var db = _app.OpenDb();
        var publication = Assert.Single(await db.Publications.ToListAsync());
        Assert.Equal((Tip, Nov5.UtcDateTime, PublicationKind.Scheduled, PublicationStatus.Sending, (int?)first),
            (publication.Edition, publication.SlotUtc, publication.Kind, publication.Status, publication.IssueId));
        Assert.Equal(IssueStatus.Published, (await db.Issues.SingleAsync(i => i.Id == first)).Status);
        Assert.Equal(Nov5.UtcDateTime, (await db.Issues.SingleAsync(i => i.Id == first)).PublishedAt);
        Assert.Equal(IssueStatus.Queued, (await db.Issues.SingleAsync(i => i.Id == second)).Status);
        var deliveries = await db.Deliveries.Where(d => d.PublicationId == publication.Id).ToListAsync();
        Assert.Equal(recipients.Order(), deliveries.Select(d => d.SubscriberId).Order());
        Assert.Equal(deliveries.Count, publication.RecipientCount);
        Assert.All(deliveries, d => Assert.Equal(DeliveryStatus.Pending, d.Status));
    }

    [Fact]
    public async Task Two_fires_for_the_same_slot_at_the_same_moment_publish_once()
    {
        var first = await QueueAsync("First tip");
        await QueueAsync("Second tip");
        await AddSubscribersAsync(2, Tip);
        _time.SetUtcNow(Nov5);

        var results = await Task.WhenAll(PublishSlotAsync(Nov5), PublishSlotAsync(Nov5));

        Assert.Equal([PublishOutcome.Published, PublishOutcome.AlreadyDone], results.Select(r => r.Outcome).Order());
        await using var db = _app.OpenDb();
        var publication = Assert.Single(await db.Publications.ToListAsync());
        Assert.Equal(first, publication.IssueId);
        Assert.Equal(1, await db.Issues.CountAsync(i => i.Status == IssueStatus.Published));
        Assert.Equal(2, await db.Deliveries.CountAsync());
    }

    [Fact]
    public async Task An_empty_queue_records_the_slot_as_skipped()
    {
        await AddSubscribersAsync(2, Tip);
        _time.SetUtcNow(Nov5);

        var result = await PublishSlotAsync(Nov5);
        var again = await PublishSlotAsync(Nov5);

        Assert.Equal(PublishOutcome.Skipped, result.Outcome);
        Assert.Equal(PublishOutcome.AlreadyDone, again.Outcome);
        await using var db = _app.OpenDb();
        var publication = Assert.Single(await db.Publications.ToListAsync());
        Assert.Equal((PublicationStatus.Skipped, (int?)null, 0), (publication.Status, publication.IssueId, publication.RecipientCount));
        Assert.NotNull(publication.CompletedAt);
        Assert.False(string.IsNullOrWhiteSpace(publication.Note));
        Assert.Equal(0, await db.Deliveries.CountAsync());
    }

    [Fact]
    public async Task An_issue_pinned_to_the_slots_date_goes_before_the_head_of_the_queue()
    {
        var head = await QueueAsync("Head of the queue");
        var pinned = await QueueAsync("Pinned to 12 November", sendOn: "2026-11-12");
        _time.SetUtcNow(Nov5);

        var nov5 = await PublishSlotAsync(Nov5);
        _time.SetUtcNow(Nov12);
        var nov12 = await PublishSlotAsync(Nov12);

        Assert.Equal(head, nov5.Publication!.IssueId);
        Assert.Equal(pinned, nov12.Publication!.IssueId);
    }

    [Fact]
    public async Task A_pinned_issue_is_not_taken_on_other_dates()
    {
        var pinned = await QueueAsync("Pinned to 19 November", sendOn: "2026-11-19");
        _time.SetUtcNow(Nov12);

        var nov12 = await PublishSlotAsync(Nov12);

        Assert.Equal(PublishOutcome.Skipped, nov12.Outcome);
        await using (var db = _app.OpenDb())
        {
            Assert.Equal(IssueStatus.Queued, (await db.Issues.SingleAsync()).Status);
        }
        _time.SetUtcNow(Nov19);
        var nov19 = await PublishSlotAsync(Nov19);
        Assert.Equal(pinned, nov19.Publication!.IssueId);
    }

    [Fact]
    public async Task Send_on_is_compared_with_the_slots_date_in_the_editions_zone_not_in_UTC()
    {
        // 22:00 in New York on Thursday 5 November is 03:00 UTC on Friday 6 November.
        await _host.DisposeAsync();
        _app.Set("Editions:weekly-tip:Schedule", "0 0 22 ? * THU");
        await StartAsync();
        var slot = Utc(2026, 11, 6, 3);
        var pinned = await QueueAsync("Pinned to Thursday evening", sendOn: "2026-11-05");
        _time.SetUtcNow(slot);

        var result = await PublishSlotAsync(slot);

        Assert.Equal(pinned, result.Publication!.IssueId);
    }

    [Fact]
    public async Task Catch_up_inside_the_window_publishes_the_latest_slot_and_records_older_ones_as_missed()
    {
        await RecordPublicationAsync(Oct8);
        var issue = await QueueAsync("Waiting in the queue");
        var recipients = await AddSubscribersAsync(2, Tip);
        _time.SetUtcNow(Oct29 + TimeSpan.FromHours(2));

        var published = await CatchUpAsync();

        Assert.Equal(1, published);
        await using var db = _app.OpenDb();
        var rows = await db.Publications.Where(p => p.Edition == Tip).OrderBy(p => p.SlotUtc).ToListAsync();
        Assert.Equal(
            [
                (Oct8.UtcDateTime, PublicationKind.Scheduled, PublicationStatus.Completed),
                (Oct15.UtcDateTime, PublicationKind.Scheduled, PublicationStatus.Missed),
                (Oct22.UtcDateTime, PublicationKind.Scheduled, PublicationStatus.Missed),
                (Oct29.UtcDateTime, PublicationKind.CatchUp, PublicationStatus.Sending),
            ],
            rows.Select(p => (p.SlotUtc, p.Kind, p.Status)));
        var catchUp = rows[^1];
        Assert.Equal(issue, catchUp.IssueId);
        Assert.Equal(recipients.Count, catchUp.RecipientCount);
        Assert.Equal(recipients.Count, await db.Deliveries.CountAsync(d => d.PublicationId == catchUp.Id));
        // The other editions had no slot in the window and no history: nothing to record.
        Assert.Equal(0, await db.Publications.CountAsync(p => p.Edition != Tip));
    }

    [Fact]
    public async Task Catch_up_outside_the_window_records_the_slot_as_missed_and_publishes_nothing()
    {
        await RecordPublicationAsync(Oct8);
        await QueueAsync("Waiting in the queue");
        await AddSubscribersAsync(2, Tip);
        _time.SetUtcNow(Oct29 + TimeSpan.FromHours(8));

        var published = await CatchUpAsync();

        Assert.Equal(0, published);
        await using var db = _app.OpenDb();
        var rows = await db.Publications.Where(p => p.SlotUtc > Oct8.UtcDateTime).OrderBy(p => p.SlotUtc).ToListAsync();
        Assert.Equal([Oct15.UtcDateTime, Oct22.UtcDateTime, Oct29.UtcDateTime], rows.Select(p => p.SlotUtc));
        Assert.All(rows, p => Assert.Equal((Tip, PublicationStatus.Missed, (int?)null), (p.Edition, p.Status, p.IssueId)));
        Assert.Equal(IssueStatus.Queued, (await db.Issues.SingleAsync()).Status);
        Assert.Equal(0, await db.Deliveries.CountAsync());
    }

    [Fact]
    public async Task Catching_up_twice_publishes_nothing_more()
    {
        await RecordPublicationAsync(Oct8);
        await QueueAsync("First");
        await QueueAsync("Second");
        await AddSubscribersAsync(1, Tip);
        _time.SetUtcNow(Oct29 + TimeSpan.FromHours(2));

        var first = await CatchUpAsync();
        _time.Advance(TimeSpan.FromMinutes(30));
        var second = await CatchUpAsync();
        // The schedule's own fire for the slot, arriving late, is a no-op too.
        var lateFire = await PublishSlotAsync(Oct29);

        Assert.Equal((1, 0), (first, second));
        Assert.Equal(PublishOutcome.AlreadyDone, lateFire.Outcome);
        await using var db = _app.OpenDb();
        Assert.Equal(1, await db.Publications.CountAsync(p => p.IssueId != null));
        Assert.Equal(1, await db.Issues.CountAsync(i => i.Status == IssueStatus.Queued));
        Assert.Equal(4, await db.Publications.CountAsync());
    }

    [Fact]
    public async Task A_long_outage_records_missed_slots_only_for_the_last_62_days()
    {
        await RecordPublicationAsync(Utc(2025, 10, 9, 13));
        await QueueAsync("Waiting in the queue");
        var now = Oct29 + TimeSpan.FromHours(2);
        _time.SetUtcNow(now);

        var published = await CatchUpAsync();

        Assert.Equal(1, published);
        await using var db = _app.OpenDb();
        var recorded = await db.Publications.Where(p => p.SlotUtc > Utc(2025, 10, 9, 13).UtcDateTime).OrderBy(p => p.SlotUtc).ToListAsync();
        // Thursdays from 3 September to 22 October missed, 29 October caught up.
        Assert.Equal(9, recorded.Count);
        Assert.Equal(Utc(2026, 9, 3, 13).UtcDateTime, recorded[0].SlotUtc);
        Assert.All(recorded[..^1], p => Assert.Equal(PublicationStatus.Missed, p.Status));
        Assert.Equal((Oct29.UtcDateTime, PublicationKind.CatchUp), (recorded[^1].SlotUtc, recorded[^1].Kind));
    }

    [Fact]
    public async Task A_fresh_database_catches_up_only_a_slot_inside_the_window()
    {
        var issue = await QueueAsync("Waiting in the queue");
        _time.SetUtcNow(Nov5 + TimeSpan.FromHours(1));

        var published = await CatchUpAsync();

        Assert.Equal(1, published);
        await using var db = _app.OpenDb();
        var publication = Assert.Single(await db.Publications.ToListAsync());
        Assert.Equal((Nov5.UtcDateTime, PublicationKind.CatchUp, (int?)issue), (publication.SlotUtc, publication.Kind, publication.IssueId));
    }

    [Fact]
    public async Task A_send_now_does_not_count_as_the_editions_last_slot_for_catch_up()
    {
        await RecordPublicationAsync(Oct22);
        var sentNow = await QueueAsync("Sent by hand");
        var queued = await QueueAsync("Waiting for the slot");
        _time.SetUtcNow(Oct29 + TimeSpan.FromMinutes(30));
        var manual = await _host.InScopeAsync<Publisher, PublishResult>(p => p.PublishNowAsync(sentNow));
        _time.SetUtcNow(Oct29 + TimeSpan.FromHours(1));

        var published = await CatchUpAsync();

        Assert.Equal(PublicationKind.SendNow, manual.Publication!.Kind);
        Assert.Equal(1, published);
        await using var db = _app.OpenDb();
        var catchUp = await db.Publications.SingleAsync(p => p.Kind == PublicationKind.CatchUp);
        Assert.Equal((Oct29.UtcDateTime, (int?)queued), (catchUp.SlotUtc, catchUp.IssueId));
    }

    [Fact]
    public async Task The_snapshot_takes_only_confirmed_unsuppressed_subscribers_with_an_active_subscription_to_the_edition()
    {
        var wanted = new List<int>
        {
            await AddSubscriberAsync("tip-only@example.org", confirmed: true, Tip),
            await AddSubscriberAsync("everything@example.org", confirmed: true),
        };
        await AddSubscriberAsync("pending@example.org", confirmed: false, Tip);
        await AddSubscriberAsync("fact-only@example.org", confirmed: true, "weekly-fact");
        var leaver = await AddSubscriberAsync("leaver@example.org", confirmed: true, Tip, "weekly-fact");
        await _host.InScopeAsync<SubscriberList, bool>(l => l.UnsubscribeAsync(leaver, Tip));
        await AddSubscriberAsync("Bounced@Example.org", confirmed: true, Tip);
        await using (var db = _app.OpenDb())
        {
            db.Suppressions.Add(new Suppression
            {
                EmailHash = TestApp.AddressHash("bounced@example.org"),
                Reason = SuppressionReason.HardBounce,
                CreatedAt = _time.GetUtcNow().UtcDateTime,
            });
            await db.SaveChangesAsync();
        }
        await QueueAsync("For the right people");
        _time.SetUtcNow(Nov5);

        var result = await PublishSlotAsync(Nov5);

        Assert.Equal(2, result.Publication!.RecipientCount);
        await using var check = _app.OpenDb();
        var snapshot = await check.Deliveries.Where(d => d.PublicationId == result.Publication.Id).Select(d => d.SubscriberId).ToListAsync();
        Assert.Equal(wanted.Order(), snapshot.Order());
    }

    private Task<PublishResult> PublishSlotAsync(DateTimeOffset slot, PublicationKind kind = PublicationKind.Scheduled) =>
        _host.InScopeAsync<Publisher, PublishResult>(p => p.PublishSlotAsync(Tip, slot, kind));

    private Task<int> CatchUpAsync() => _host.InScopeAsync<SlotCatchUp, int>(c => c.RunAsync(CancellationToken.None));

    /// <summary>Queues a Tip of the Week issue through the editor's queue; returns its id.</summary>
    private async Task<int> QueueAsync(string subject, string? sendOn = null)
    {
        var path = _app.WriteFile($"issue-{Guid.NewGuid():N}.md",
            sendOn is null ? TestData.TipIssue(subject) : TestData.TipIssue(subject, $"send_on: {sendOn}"));
        var result = await _host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(path));
        Assert.True(result.Issue is not null, string.Join('\n', result.Problems));
        _time.Advance(TimeSpan.FromMinutes(1));
        return result.Issue.Id;
    }

    private async Task<int> AddSubscriberAsync(string email, bool confirmed, params string[] editions)
    {
        var result = await _host.InScopeAsync<SubscriberList, AddSubscriberResult>(l => l.AddAsync(email, null, editions, confirmed));
        Assert.True(result.Succeeded, result.Error);
        return result.Subscriber!.Id;
    }

    private async Task<List<int>> AddSubscribersAsync(int count, string edition)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await AddSubscriberAsync($"reader{i}@example.org", confirmed: true, edition));
        }
        return ids;
    }

    /// <summary>An earlier slot of the edition that went out normally.</summary>
    private async Task RecordPublicationAsync(DateTimeOffset slot)
    {
        await using var db = _app.OpenDb();
        db.Publications.Add(new Publication
        {
            Edition = Tip,
            SlotUtc = slot.UtcDateTime,
            Kind = PublicationKind.Scheduled,
            Status = PublicationStatus.Completed,
            CreatedAt = slot.UtcDateTime,
            CompletedAt = slot.UtcDateTime,
        });
        await db.SaveChangesAsync();
    }
}
