using Microsoft.EntityFrameworkCore;
using MimeKit;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Scheduling;

/// <summary>The running service with Quartz on: a slot fires, the queued issue is published and delivered.</summary>
public sealed class ScheduledServiceTests
{
    [Fact]
    public async Task With_scheduling_on_a_slot_publishes_the_queued_issue_and_the_service_delivers_it()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed", "--editions", "weekly-tip");
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        // A slot every second, and no catch-up, so the first publication comes from a Quartz fire.
        app.Set("Scheduling:Enabled", "true")
            .Set("Scheduling:CatchUpWindow", "00:00:00")
            .Set("Editions:weekly-tip:Schedule", "* * * * * ?");

        await using (var web = app.CreateWebApp())
        {
            using var client = web.CreateClient(); // starts the host
            await Poll.UntilAsync(async () =>
            {
                await using var db = app.OpenDb();
                return await db.Publications.AnyAsync(p => p.IssueId == issue && p.Status == PublicationStatus.Completed);
            }, "a scheduled slot published and delivered the issue", TimeSpan.FromSeconds(30));
        }

        await using var check = app.OpenDb();
        var publication = await check.Publications.SingleAsync(p => p.IssueId == issue);
        Assert.Equal(PublicationKind.Scheduled, publication.Kind);
        Assert.Equal(0, publication.SlotUtc.Millisecond);
        Assert.Equal(IssueStatus.Published, (await check.Issues.SingleAsync()).Status);
        // Later slots found the queue empty: skipped, one row per slot.
        var others = await check.Publications.Where(p => p.Id != publication.Id).ToListAsync();
        Assert.All(others, p => Assert.Equal(PublicationStatus.Skipped, p.Status));
        Assert.Equal(others.Count, others.Select(p => p.SlotUtc).Distinct().Count());
        var eml = Assert.Single(Directory.GetFiles(app.PickupDirectory, "*.eml"));
        Assert.Equal("reader@example.org", Assert.Single(MimeMessage.Load(eml).To.Mailboxes).Address);
    }
}
