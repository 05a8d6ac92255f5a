using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Newsletter.Subscribers.Lists;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Publishing;
using Newsletter.Worker.Scheduling;

namespace Newsletter.Tests.Editors;

/// <summary>Editors are emailed, through the configured transport, about an edition's next slot with nothing
/// queued (once per slot) and with a summary of each finished publication (once each); each may mute either.</summary>
public sealed class EditorNotificationsTests : IAsyncLifetime
{
    private const string Tip = "weekly-tip";

    // Tue 3 Nov 2026: Tip of the Week's next slot is Thu 5 Nov 09:00 New York (14:00 UTC), within three
    // days; Fact of the Week's (Mon 9 Nov) and the Monthly Spotlight's (1 Dec) are not.
    private static readonly DateTimeOffset Tuesday = new(2026, 11, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset TipSlot = new(2026, 11, 5, 14, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Tuesday);
    private TestApp _app = null!;
    private TestHost _host = null!;

    public Task InitializeAsync()
    {
        _app = TestApp.Create();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await _app.DisposeAsync();
    }

    private async Task StartAsync() =>
        // The check is the scheduler's (the running service adds it with its schedules).
        _host = await _app.StartHostAsync(s => s.AddSingleton<TimeProvider>(_time).AddScoped<EditorNotificationsCheck>());

    [Fact]
    public async Task An_empty_next_slot_within_the_window_is_emailed_once_to_each_unmuted_editor()
    {
        await StartAsync();
        await AddEditorAsync("sam@example.org");
        await AddEditorAsync("ana@example.org");
        await AddEditorAsync("kim@example.org", muteWarnings: true);

        await CheckAsync();
        await CheckAsync();

        var sent = Pickup();
        Assert.Equal(["ana@example.org", "sam@example.org"], sent.Select(m => m.To.Mailboxes.Single().Address).Order());
        Assert.All(sent, m => Assert.Equal("Nothing queued for Tip of the Week on Thu 5 Nov", m.Subject));
        var text = sent[0].TextBody;
        Assert.Contains("Thu 5 Nov 2026 09:00 (America/New_York", text, StringComparison.Ordinal);
        Assert.Contains($"{TestApp.PublicBaseUrl}/admin/issues/write?edition=weekly-tip", text, StringComparison.Ordinal);
        Assert.Contains($"{TestApp.PublicBaseUrl}/admin/plan", text, StringComparison.Ordinal);
        Assert.Equal("newsletter@example.org", sent[0].From.Mailboxes.Single().Address);

        // Saturday: Fact of the Week's Monday slot comes within the window; Tip of the Week's next is a week off.
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 7, 12, 0, 0, TimeSpan.Zero));
        await CheckAsync();

        var later = Pickup().Select(m => m.Subject ?? "").Where(s => !s.Contains("Tip", StringComparison.Ordinal)).Distinct();
        Assert.Equal(["Nothing queued for Fact of the Week on Mon 9 Nov"], later);
        Assert.Equal(4, Pickup().Count);
    }

    [Fact]
    public async Task A_slot_with_a_queued_issue_is_not_warned_about_nor_is_any_slot_when_warnings_are_off()
    {
        await StartAsync();
        await AddEditorAsync("sam@example.org");
        await QueueTipAsync("Tip for Thursday");

        await CheckAsync();
        Assert.Empty(Pickup());
        await _host.DisposeAsync();

        _app.Set("Editors:EmptySlotWarning", "00:00:00");
        await StartAsync();
        await using (var db = _app.OpenDb())
        {
            await db.Issues.ExecuteUpdateAsync(u => u.SetProperty(i => i.Status, IssueStatus.Cancelled));
        }
        await CheckAsync();

        Assert.Empty(Pickup());
    }

    [Fact]
    public async Task A_finished_publication_is_summarised_once_with_its_counts_and_one_still_sending_is_not()
    {
        _app.Set("Editors:EmptySlotWarning", "00:00:00");
        await StartAsync();
        await AddEditorAsync("sam@example.org");
        await AddEditorAsync("kim@example.org", muteSummaries: true);
        for (var i = 0; i < 6; i++)
        {
            await _host.InScopeAsync<SubscriberList, AddSubscriberResult>(l => l.AddAsync($"reader{i}@example.org", null, [Tip], true));
        }
        await QueueTipAsync("One small kindness");
        _time.SetUtcNow(TipSlot);
        var publication = (await _host.InScopeAsync<Publisher, PublishResult>(p => p.PublishSlotAsync(Tip, TipSlot, PublicationKind.Scheduled))).Publication!;
        var old = await RecordFinishedAsync(TipSlot.AddDays(-2));

        await CheckAsync();
        Assert.Empty(Pickup());

        // Three sent (one reader left through the issue's link), two refused, one skipped; done ten minutes after the slot.
        var done = TipSlot.AddMinutes(10).UtcDateTime;
        await using (var db = _app.OpenDb())
        {
            var deliveries = await db.Deliveries.Where(d => d.PublicationId == publication.Id).OrderBy(d => d.Id).ToListAsync();
            Assert.Equal(6, deliveries.Count);
            for (var i = 0; i < 6; i++)
            {
                (deliveries[i].Status, deliveries[i].LastResult) = i switch
                {
                    < 3 => (DeliveryStatus.Sent, "250 ok"),
                    < 5 => (DeliveryStatus.Failed, "550 5.1.1 user unknown"),
                    _ => (DeliveryStatus.Skipped, "unsubscribed after the snapshot"),
                };
                deliveries[i].CompletedAt = done;
            }
            deliveries[0].UnsubscribedAt = done;
            var row = await db.Publications.SingleAsync(p => p.Id == publication.Id);
            (row.Status, row.CompletedAt) = (PublicationStatus.Completed, done);
            await db.SaveChangesAsync();
        }
        _time.SetUtcNow(TipSlot.AddMinutes(15));

        await CheckAsync();
        await CheckAsync();

        var summary = Assert.Single(Pickup());
        Assert.Equal("sam@example.org", summary.To.Mailboxes.Single().Address);
        Assert.Equal("Tip of the Week completed: One small kindness", summary.Subject);
        var text = summary.TextBody;
        Assert.Contains("Recipients:    6", text, StringComparison.Ordinal);
        Assert.Contains("Sent:          3", text, StringComparison.Ordinal);
        Assert.Contains("Failed:        2", text, StringComparison.Ordinal);
        Assert.Contains("Skipped:       1", text, StringComparison.Ordinal);
        Assert.Contains("Duration:      10m00s", text, StringComparison.Ordinal);
        Assert.Contains("Unsubscribes:  1 ", text, StringComparison.Ordinal);
        Assert.Contains("2 × 550 5.1.1 user unknown", text, StringComparison.Ordinal);
        Assert.Contains($"{TestApp.PublicBaseUrl}/admin/publications/{publication.Id}", text, StringComparison.Ordinal);
        await using var check = _app.OpenDb();
        Assert.NotNull((await check.Publications.SingleAsync(p => p.Id == publication.Id)).SummarySentAt);
        // Finished more than a day before: from before summaries existed, never sent.
        Assert.Null((await check.Publications.SingleAsync(p => p.Id == old)).SummarySentAt);
    }

    [Fact]
    public async Task When_the_mail_server_is_down_nothing_is_marked_sent_and_the_next_check_sends()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        _app.UseSmtp(smtp.Port);
        await StartAsync();
        await AddEditorAsync("sam@example.org");
        var finished = await RecordFinishedAsync(Tuesday.AddHours(-1));
        await smtp.StopAsync();

        await CheckAsync();

        await using (var db = _app.OpenDb())
        {
            Assert.Null((await db.Publications.SingleAsync(p => p.Id == finished)).SummarySentAt);
            Assert.False(await db.Settings.AnyAsync(s => s.Key == EditorNotifications.WarnedKey(Tip)));
        }
        await smtp.RestartAsync();

        await CheckAsync();
        await CheckAsync();

        Assert.Equal(["Nothing queued for Tip of the Week on Thu 5 Nov", "Tip of the Week completed: publication " + finished],
            smtp.Messages.Select(m => m.Message.Subject).Order(StringComparer.Ordinal));
        await using var check = _app.OpenDb();
        Assert.NotNull((await check.Publications.SingleAsync(p => p.Id == finished)).SummarySentAt);
    }

    [Theory]
    [InlineData("Editors:EmptySlotWarning", "-1.00:00:00")]
    [InlineData("Editors:NotificationInterval", "00:00:10")]
    public async Task An_out_of_range_setting_stops_a_command_with_exit_2_naming_the_key(string key, string value)
    {
        _app.Set(key, value);

        var result = await _app.RunCliAsync("editors", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(key.Split(':')[1], result.Error, StringComparison.Ordinal);
    }

    private Task CheckAsync() => _host.InScopeAsync<EditorNotificationsCheck, bool>(async c =>
    {
        await c.RunAsync(CancellationToken.None);
        return true;
    });

    private async Task AddEditorAsync(string email, bool muteWarnings = false, bool muteSummaries = false)
    {
        var change = await _host.InScopeAsync<EditorAccounts, EditorChange>(a => a.AddAsync(email, null, CancellationToken.None));
        Assert.True(change.Succeeded, change.Error);
        await _host.InScopeAsync<EditorNotifications, EditorChange>(n => n.ChooseAsync(email, !muteWarnings, !muteSummaries, CancellationToken.None));
    }

    private async Task QueueTipAsync(string subject)
    {
        var path = _app.WriteFile($"issue-{Guid.NewGuid():N}.md", TestData.TipIssue(subject));
        var result = await _host.InScopeAsync<IssueQueue, QueueResult>(q => q.QueueFileAsync(path));
        Assert.True(result.Issue is not null, string.Join('\n', result.Problems));
    }

    /// <summary>A send-now publication with no recipients that completed at <paramref name="at"/>.</summary>
    private async Task<int> RecordFinishedAsync(DateTimeOffset at)
    {
        await using var db = _app.OpenDb();
        var publication = new Publication
        {
            Edition = Tip,
            SlotUtc = at.UtcDateTime,
            Kind = PublicationKind.SendNow,
            Status = PublicationStatus.Completed,
            CreatedAt = at.UtcDateTime,
            CompletedAt = at.UtcDateTime,
        };
        db.Publications.Add(publication);
        await db.SaveChangesAsync();
        return publication.Id;
    }

    private List<MimeMessage> Pickup() => Directory.Exists(_app.PickupDirectory)
        ? [.. Directory.GetFiles(_app.PickupDirectory, "*.eml").Select(f => MimeMessage.Load(f))]
        : [];
}
