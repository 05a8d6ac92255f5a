using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>
/// A sign-up is anonymous, so a second one for the same address must not change what the first one chose:
/// a pending sign-up changes only through its own confirmation link, and a link confirms only what was
/// waiting when it was issued, never what a later request asked for.
/// </summary>
public sealed class PendingSignupTests
{
    private static async Task<Subscriber> ReaderAsync(SignupWorld world)
    {
        await using var db = world.App.OpenDb();
        return await db.Subscribers.AsNoTracking().Include(s => s.Subscriptions).Include(s => s.ConsentRecords).SingleAsync();
    }

    private static Dictionary<string, SubscriptionStatus> Editions(Subscriber s) => s.Subscriptions.ToDictionary(x => x.Edition, x => x.Status);

    [Fact]
    public async Task A_second_sign_up_by_someone_else_does_not_change_what_the_reader_s_first_link_confirms()
    {
        await using var world = await SignupWorld.StartAsync();
        var first = await world.PostAsync("/subscribe", SignupWorld.Form(
            ("email", "reader@example.org"), ("name", "Sam"), ("editions", "weekly-tip"), ("crisis_region", "uk-ie")));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await world.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
        var link = SignupWorld.LinkPath(world.Smtp.Messages[0].Message, "/confirm/");
        world.Time.Advance(TimeSpan.FromMinutes(2));

        var second = await world.PostAsync("/subscribe", SignupWorld.Form(
            ("email", "READER@example.org"), ("name", "Mallory"), ("editions", "monthly-spotlight"), ("crisis_region", "us-ca")));

        // The same answer as any sign-up, but the reader's choice is as they left it.
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var pending = await ReaderAsync(world);
        Assert.Equal(("Sam", "uk-ie"), (pending.Name, pending.CrisisRegion));
        Assert.Equal(SubscriptionStatus.Pending, Editions(pending)["weekly-tip"]);
        var page = await HttpAssert.BodyAsync(await world.Client.GetAsync(link));
        Assert.Contains("Tip of the Week", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Monthly Spotlight", page, StringComparison.Ordinal);

        var confirmed = await world.PostAsync(link);

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var reader = await ReaderAsync(world);
        Assert.Equal((SubscriberStatus.Confirmed, "Sam", "uk-ie"), (reader.Status, reader.Name, reader.CrisisRegion));
        var editions = Editions(reader);
        Assert.Equal(SubscriptionStatus.Active, editions["weekly-tip"]);
        Assert.NotEqual(SubscriptionStatus.Active, editions.GetValueOrDefault("monthly-spotlight", SubscriptionStatus.Unsubscribed));
        // Only the first request's consent is confirmed by the first request's link.
        Assert.Equal(["weekly-tip"], reader.ConsentRecords.Where(c => c.ConfirmedAt is not null).Select(c => c.Editions));
    }

    [Fact]
    public async Task A_later_sign_up_starts_its_own_confirmation_whose_link_confirms_what_was_asked_for_by_then()
    {
        await using var world = await SignupWorld.StartAsync();
        await world.SignUpAndGetLinkAsync("reader@example.org", "Sam", "weekly-tip");
        world.Time.Advance(TimeSpan.FromHours(2));

        var link = await world.SignUpAndGetLinkAsync("reader@example.org", "Samantha", "monthly-spotlight");

        // The new email names both editions waiting: the reader sees what its link confirms.
        Assert.Contains("Tip of the Week", world.Smtp.Messages[1].Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Monthly Spotlight", world.Smtp.Messages[1].Message.TextBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(link)).StatusCode);
        var reader = await ReaderAsync(world);
        Assert.Equal(SubscriberStatus.Confirmed, reader.Status);
        Assert.Equal("Sam", reader.Name);
        Assert.Equal(new Dictionary<string, SubscriptionStatus>
        {
            ["weekly-tip"] = SubscriptionStatus.Active,
            ["monthly-spotlight"] = SubscriptionStatus.Active,
        }, Editions(reader));
    }

    [Fact]
    public async Task A_confirmed_reader_s_old_link_does_not_confirm_an_edition_someone_asked_for_after_it()
    {
        await using var world = await SignupWorld.StartAsync();
        var link = await world.SignUpAndGetLinkAsync("reader@example.org", "Sam", "weekly-tip");
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(link)).StatusCode);
        await world.MailIdleAsync();
        world.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await world.SignUpAsync("reader@example.org", "Mallory", "monthly-spotlight")).StatusCode);
        Assert.Equal(SubscriptionStatus.Pending, Editions(await ReaderAsync(world))["monthly-spotlight"]);

        var again = await world.PostAsync(link);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("already confirmed", await HttpAssert.BodyAsync(again), StringComparison.Ordinal);
        var reader = await ReaderAsync(world);
        Assert.Equal("Sam", reader.Name);
        Assert.Equal(new Dictionary<string, SubscriptionStatus>
        {
            ["weekly-tip"] = SubscriptionStatus.Active,
            ["monthly-spotlight"] = SubscriptionStatus.Pending,
        }, Editions(reader));
    }
}
