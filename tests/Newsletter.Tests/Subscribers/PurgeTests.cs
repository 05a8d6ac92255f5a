using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Maintenance;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Subscribers;

/// <summary>Unconfirmed sign-ups are forgotten after Subscribers:PurgeUnconfirmedAfterDays.</summary>
public sealed class PurgeTests
{
    private static Task<SignupResult> SignUp(TestHost host, string email, params string[] editions) =>
        host.InScopeAsync<SubscriptionService, SignupResult>(s => s.SubscribeAsync(new SignupRequest(email, null, editions, "web-form", "192.0.2.1", "UA")));

    [Fact]
    public async Task Sign_ups_left_unconfirmed_past_the_purge_age_are_deleted_and_everything_else_is_kept()
    {
        await using var app = TestApp.Create();
        app.Set("Subscribers:PurgeUnconfirmedAfterDays", "10");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        await using var host = await app.StartHostAsync(services => services.AddSingleton<TimeProvider>(time));

        await SignUp(host, "stale@example.org", "weekly-tip");
        await SignUp(host, "reader@example.org", "weekly-tip");
        await host.InScopeAsync<SubscriptionService, bool>(async s =>
        {
            // Confirm the reader, then let them leave one edition and ask for it back without confirming.
            var db = host.Services.CreateScope().ServiceProvider.GetRequiredService<Newsletter.Worker.Data.NewsletterDbContext>();
            var id = await db.Subscribers.Where(x => x.NormalizedEmail == "reader@example.org").Select(x => x.Id).SingleAsync();
            await db.Subscribers.Where(x => x.Id == id).ExecuteUpdateAsync(u => u.SetProperty(x => x.Status, SubscriberStatus.Confirmed));
            await db.Subscriptions.Where(x => x.SubscriberId == id).ExecuteUpdateAsync(u => u
                .SetProperty(x => x.Status, SubscriptionStatus.Unsubscribed).SetProperty(x => x.UnsubscribedAt, time.GetUtcNow().UtcDateTime));
            return true;
        });
        time.Advance(TimeSpan.FromDays(1));
        await SignUp(host, "reader@example.org", "weekly-tip", "weekly-fact"); // an unconfirmed return, and a new edition
        time.Advance(TimeSpan.FromDays(5));
        await SignUp(host, "recent@example.org", "weekly-fact");
        time.Advance(TimeSpan.FromDays(5) + TimeSpan.FromHours(1)); // stale: 11 days; reader's request: 10 days; recent: 5 days

        var result = await host.InScopeAsync<UnconfirmedPurge, PurgeResult>(p => p.PurgeAsync());

        Assert.Equal(new PurgeResult(1, 2), result);
        await using var check = app.OpenDb();
        Assert.Equal(["reader@example.org", "recent@example.org"], (await check.Subscribers.Select(s => s.NormalizedEmail).ToListAsync()).Order());
        var reader = await check.Subscribers.Include(s => s.Subscriptions).Include(s => s.ConsentRecords).SingleAsync(s => s.NormalizedEmail == "reader@example.org");
        Assert.Equal(("weekly-tip", SubscriptionStatus.Unsubscribed), (Assert.Single(reader.Subscriptions).Edition, reader.Subscriptions[0].Status));
        Assert.DoesNotContain(reader.ConsentRecords, c => c.ConfirmedAt == null && c.ConsentedAt < time.GetUtcNow().UtcDateTime.AddDays(-10));
        Assert.Equal(SubscriptionStatus.Pending, (await check.Subscriptions.SingleAsync(s => s.Subscriber!.NormalizedEmail == "recent@example.org")).Status);
        // The forgotten sign-up's email went with it; so did the reader's first one, replaced and done with.
        // (This host runs no sender: the emails still owed wait in the outbox.)
        var outbox = await check.Set<OutgoingEmail>().Include(e => e.Subscriber).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal([("reader@example.org", OutgoingEmailStatus.Pending), ("recent@example.org", OutgoingEmailStatus.Pending)],
            outbox.Select(e => (e.Subscriber!.NormalizedEmail, e.Status)));

        var again = await host.InScopeAsync<UnconfirmedPurge, PurgeResult>(p => p.PurgeAsync());
        Assert.Equal(new PurgeResult(0, 0), again);
    }

    [Fact]
    public async Task The_purge_command_runs_the_purge_now()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "pending@example.org");

        var result = await app.RunCliOkAsync("subscribers", "purge-unconfirmed");

        Assert.Contains("Purged: 0 unconfirmed sign-up(s) deleted", result.Out);
        Assert.Equal(1, await ListSnapshot.CountAsync(app));
    }

    [Fact]
    public async Task A_purge_age_shorter_than_the_link_lifetime_is_refused_at_start_naming_both_keys()
    {
        await using var app = TestApp.Create();
        app.Set("Subscribers:PurgeUnconfirmedAfterDays", "3").Set("Subscribers:ConfirmationLinkLifetimeDays", "7");

        var result = await app.RunCliAsync("subscribers", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Subscribers:PurgeUnconfirmedAfterDays", result.Error);
        Assert.Contains("Subscribers:ConfirmationLinkLifetimeDays", result.Error);
    }
}
