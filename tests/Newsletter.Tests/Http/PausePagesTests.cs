using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>Pausing every email instead of leaving, through the real preferences and unsubscribe pages.</summary>
public sealed class PausePagesTests
{
    private static async Task<DateTime?> PausedUntilAsync(SignupWorld world, int id)
    {
        await using var db = world.App.OpenDb();
        return await db.Subscribers.Where(s => s.Id == id).Select(s => s.PausedUntil).SingleAsync();
    }

    [Theory]
    [InlineData("2w", "16 November 2026", 14)]
    [InlineData("1m", "2 December 2026", 30)]
    [InlineData("3m", "2 February 2027", 92)]
    public async Task The_preferences_page_pauses_every_email_shows_until_when_and_resumes(string choice, string shown, int days)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", "Sam", "weekly-tip");
        var token = world.PreferencesToken(id);
        // The welcome goes out after the confirmation; it is not about pausing.
        await world.MailIdleAsync();
        var sentBefore = world.Smtp.Messages.Count;
        var offer = await HttpAssert.BodyAsync(await world.Client.GetAsync($"/preferences/{token}"));
        Assert.Contains($"action=\"/preferences/{token}/pause\"", offer, StringComparison.Ordinal);
        Assert.Contains("Pause for 2 weeks", offer, StringComparison.Ordinal);

        var paused = await world.PostAsync($"/preferences/{token}/pause", SignupWorld.Form(("for", choice)));

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Contains($"paused until {shown}", await HttpAssert.BodyAsync(paused), StringComparison.Ordinal);
        Assert.Equal(SignupWorld.Start.UtcDateTime.AddDays(days), await PausedUntilAsync(world, id));
        var page = await HttpAssert.BodyAsync(await world.Client.GetAsync($"/preferences/{token}"));
        Assert.Contains($"paused until {shown}", page, StringComparison.Ordinal);
        Assert.Contains("Resume my emails now", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Pause for 2 weeks", page, StringComparison.Ordinal);

        var resumed = await world.PostAsync($"/preferences/{token}/resume", SignupWorld.Form());

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Null(await PausedUntilAsync(world, id));
        Assert.Contains("Pause for 2 weeks", await HttpAssert.BodyAsync(resumed), StringComparison.Ordinal);
        // No email about pausing or resuming.
        await world.MailIdleAsync();
        Assert.Equal(sentBefore, world.Smtp.Messages.Count);
    }

    [Fact]
    public async Task The_unsubscribe_page_offers_a_pause_and_its_token_pauses_and_resumes()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", null, "weekly-tip");
        var token = world.UnsubscribeToken(id, "weekly-tip");
        Assert.Contains($"action=\"/unsubscribe/{token}/pause\"", await HttpAssert.BodyAsync(await world.Client.GetAsync($"/unsubscribe/{token}")),
            StringComparison.Ordinal);

        var paused = await world.PostAsync($"/unsubscribe/{token}/pause", SignupWorld.Form(("for", "1m")));

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Contains("until 2 December 2026", await HttpAssert.BodyAsync(paused), StringComparison.Ordinal);
        Assert.Equal(SignupWorld.Start.UtcDateTime.AddMonths(1), await PausedUntilAsync(world, id));
        Assert.Contains("paused until 2 December 2026", await HttpAssert.BodyAsync(await world.Client.GetAsync($"/unsubscribe/{token}")),
            StringComparison.Ordinal);
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal(Newsletter.Subscribers.Model.SubscriptionStatus.Active, (await db.Subscriptions.SingleAsync()).Status);
        }

        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync($"/unsubscribe/{token}/resume", SignupWorld.Form())).StatusCode);
        Assert.Null(await PausedUntilAsync(world, id));
    }

    [Fact]
    public async Task A_pause_that_has_ended_is_shown_as_none_and_can_be_taken_again()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", null, "weekly-tip");
        var token = world.PreferencesToken(id);
        await world.PostAsync($"/preferences/{token}/pause", SignupWorld.Form(("for", "2w")));

        world.Time.Advance(TimeSpan.FromDays(15));
        var page = await HttpAssert.BodyAsync(await world.Client.GetAsync($"/preferences/{token}"));

        Assert.DoesNotContain("paused until", page, StringComparison.Ordinal);
        Assert.Contains("Pause for 2 weeks", page, StringComparison.Ordinal);
        await world.PostAsync($"/preferences/{token}/pause", SignupWorld.Form(("for", "2w")));
        Assert.Equal(SignupWorld.Start.UtcDateTime.AddDays(29), await PausedUntilAsync(world, id));
    }

    [Fact]
    public async Task The_json_api_pauses_too()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", null, "weekly-tip");

        var paused = await world.PostAsync($"/preferences/{world.PreferencesToken(id)}/pause", SignupWorld.Json("""{"for":"3m"}"""));

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Contains("\"pausedUntil\":\"2027-02-02T14:00:00Z\"", await HttpAssert.BodyAsync(paused), StringComparison.Ordinal);
    }

    public static TheoryData<string> BadTokens => ["forged", "truncated", "other-purpose"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_pause_with_a_bad_token_changes_nothing_and_gets_the_bad_link_answer(string kind)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", null, "weekly-tip");
        var preferences = world.PreferencesToken(id);
        var unsubscribe = world.UnsubscribeToken(id, "weekly-tip");
        string Bad(string real, string other) => kind switch
        {
            "forged" => EndToEndSmtpTests.Forged(real),
            "truncated" => real[..^6],
            _ => other,
        };
        var before = await ListSnapshot.TakeAsync(world.App);
        // The answer any other action gives the same bad token.
        var save = await world.PostAsync($"/preferences/{Bad(preferences, unsubscribe)}", SignupWorld.Form(("editions", "weekly-tip")));
        var leave = await world.PostAsync($"/unsubscribe/{Bad(unsubscribe, preferences)}", SignupWorld.Form());

        foreach (var (path, same) in new[]
        {
            ($"/preferences/{Bad(preferences, unsubscribe)}/pause", save),
            ($"/preferences/{Bad(preferences, unsubscribe)}/resume", save),
            ($"/unsubscribe/{Bad(unsubscribe, preferences)}/pause", leave),
            ($"/unsubscribe/{Bad(unsubscribe, preferences)}/resume", leave),
        })
        {
            var response = await world.PostAsync(path, SignupWorld.Form(("for", "2w")));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(await HttpAssert.BodyAsync(same), await HttpAssert.BodyAsync(response));
        }
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10y")]
    [InlineData("<script>")]
    public async Task A_pause_without_one_of_the_three_lengths_changes_nothing(string choice)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("rest@example.org", null, "weekly-tip");
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync($"/preferences/{world.PreferencesToken(id)}/pause", SignupWorld.Form(("for", choice)));
        var viaUnsubscribe = await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}/pause", SignupWorld.Form(("for", choice)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, viaUnsubscribe.StatusCode);
        Assert.Contains("Please choose how long", await HttpAssert.BodyAsync(response), StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", await HttpAssert.BodyAsync(response), StringComparison.Ordinal);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_signed_token_for_a_reader_who_no_longer_exists_pauses_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var token = world.Signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, 999, "weekly-tip"));

        var response = await world.PostAsync($"/unsubscribe/{token}/pause", SignupWorld.Form(("for", "2w")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }
}
