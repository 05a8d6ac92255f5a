using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>Preferences and leaving, through real HTTP.</summary>
public sealed class PreferencesAndUnsubscribeTests
{
    private static async Task<Dictionary<string, SubscriptionStatus>> EditionsAsync(SignupWorld world, int id)
    {
        await using var db = world.App.OpenDb();
        return await db.Subscriptions.Where(s => s.SubscriberId == id).ToDictionaryAsync(s => s.Edition, s => s.Status);
    }

    [Fact]
    public async Task The_preferences_page_shows_the_reader_their_editions_and_name_and_changes_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", "Sam", "weekly-tip");
        var before = await ListSnapshot.TakeAsync(world.App);

        var page = await world.Client.GetAsync($"/preferences/{world.PreferencesToken(id)}");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await HttpAssert.BodyAsync(page);
        Assert.Contains("prefs@example.org", html);
        Assert.Contains("value=\"Sam\"", html);
        Assert.Contains("value=\"weekly-tip\" aria-describedby=\"edition-weekly-tip-hint\" checked", html);
        Assert.DoesNotContain("value=\"weekly-fact\" aria-describedby=\"edition-weekly-fact-hint\" checked", html);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task Saving_preferences_changes_the_name_stops_unticked_editions_and_adds_new_ones_only_after_the_emailed_confirmation()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", "Sam", "weekly-tip");
        world.Time.Advance(TimeSpan.FromHours(2));
        var token = world.PreferencesToken(id);

        var saved = await world.PostAsync($"/preferences/{token}",
            SignupWorld.Form(("name", "Samantha"), ("editions", "weekly-fact"), ("editions", "monthly-spotlight")));

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Contains("we&#x27;ve emailed you a link to confirm", await HttpAssert.BodyAsync(saved));
        Assert.Equal(new Dictionary<string, SubscriptionStatus>
        {
            ["weekly-tip"] = SubscriptionStatus.Unsubscribed,
            ["weekly-fact"] = SubscriptionStatus.Pending,
            ["monthly-spotlight"] = SubscriptionStatus.Pending,
        }, await EditionsAsync(world, id));
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal("Samantha", (await db.Subscribers.SingleAsync()).Name);
            var consent = await db.Set<ConsentRecord>().OrderBy(c => c.Id).LastAsync();
            Assert.Equal(("preferences", "monthly-spotlight,weekly-fact", (DateTime?)null), (consent.Source, consent.Editions, consent.ConfirmedAt));
        }

        // The first confirmation, the welcome, then the confirmation of the editions added.
        await world.Smtp.WaitForMessagesAsync(3, TimeSpan.FromSeconds(30));
        await world.PostAsync(SignupWorld.LinkPath(world.Smtp.Messages[2].Message, "/confirm/"));
        Assert.Equal(SubscriptionStatus.Active, (await EditionsAsync(world, id))["weekly-fact"]);
        Assert.Equal(SubscriptionStatus.Active, (await EditionsAsync(world, id))["monthly-spotlight"]);
    }

    [Fact]
    public async Task A_JSON_save_changes_only_the_fields_it_names_and_leaves_the_others_as_they_were()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", "Sam", "weekly-tip", "weekly-fact");
        var token = world.PreferencesToken(id);

        var nameOnly = await world.PostAsync($"/preferences/{token}", SignupWorld.Json("""{"name":"Samantha"}"""));

        Assert.Equal(HttpStatusCode.OK, nameOnly.StatusCode);
        Assert.Equal(new Dictionary<string, SubscriptionStatus>
        {
            ["weekly-tip"] = SubscriptionStatus.Active,
            ["weekly-fact"] = SubscriptionStatus.Active,
        }, await EditionsAsync(world, id));

        var editionsOnly = await world.PostAsync($"/preferences/{token}", SignupWorld.Json("""{"editions":["weekly-fact"]}"""));

        Assert.Equal(HttpStatusCode.OK, editionsOnly.StatusCode);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await EditionsAsync(world, id))["weekly-tip"]);
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal("Samantha", (await db.Subscribers.SingleAsync()).Name);
        }

        // Naming a field empty still clears it: an empty name, or no editions at all.
        await world.PostAsync($"/preferences/{token}", SignupWorld.Json("""{"name":"","editions":[]}"""));
        Assert.All((await EditionsAsync(world, id)).Values, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s));
        await using (var db = world.App.OpenDb())
        {
            Assert.Null((await db.Subscribers.SingleAsync()).Name);
        }
    }

    [Fact]
    public async Task Ticking_an_edition_the_reader_had_left_waits_for_a_confirmation_email()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", null, "weekly-tip", "weekly-fact");
        await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}", SignupWorld.Form(("List-Unsubscribe", "One-Click")));
        world.Time.Advance(TimeSpan.FromHours(2));

        var saved = await world.PostAsync($"/preferences/{world.PreferencesToken(id)}",
            SignupWorld.Form(("editions", "weekly-fact"), ("editions", "weekly-tip")));

        Assert.Contains("we&#x27;ve emailed you a link to confirm", await HttpAssert.BodyAsync(saved));
        Assert.Equal(SubscriptionStatus.Pending, (await EditionsAsync(world, id))["weekly-tip"]);
        // The first confirmation, the welcome, then the confirmation of the edition ticked again.
        await world.Smtp.WaitForMessagesAsync(3, TimeSpan.FromSeconds(30));
        var link = SignupWorld.LinkPath(world.Smtp.Messages[2].Message, "/confirm/");
        await world.PostAsync(link);
        Assert.Equal(SubscriptionStatus.Active, (await EditionsAsync(world, id))["weekly-tip"]);
    }

    [Fact]
    public async Task Unsubscribing_from_everything_on_the_preferences_page_stops_every_edition()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("leaving@example.org", null, "weekly-tip", "weekly-fact");

        var response = await world.PostAsync($"/preferences/{world.PreferencesToken(id)}/unsubscribe-all");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("unsubscribed from everything", await HttpAssert.BodyAsync(response));
        Assert.All((await EditionsAsync(world, id)).Values, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s));
    }

    [Fact]
    public async Task The_unsubscribe_page_offers_this_edition_only_and_all_editions_and_changes_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("leaving@example.org", null, "weekly-tip", "weekly-fact");
        var before = await ListSnapshot.TakeAsync(world.App);

        var page = await world.Client.GetAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}");

        var html = await HttpAssert.BodyAsync(page);
        Assert.Contains("Unsubscribe from Tip of the Week only", html);
        Assert.Contains("name=\"scope\" value=\"all\"", html);
        Assert.Contains("Unsubscribe from all editions", html);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    public static TheoryData<string, Func<HttpContent?>> OneClickBodies => new()
    {
        { "urlencoded", () => SignupWorld.Form(("List-Unsubscribe", "One-Click")) },
        { "multipart", () => HttpAssert.Multipart(("List-Unsubscribe", "One-Click")) },
        { "empty", () => null },
    };

    [Theory]
    [MemberData(nameof(OneClickBodies))]
    public async Task A_one_click_post_leaves_only_that_edition_with_no_redirect_or_cookie_and_repeating_it_is_harmless(string encoding, Func<HttpContent?> body)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("leaving@example.org", null, "weekly-tip", "weekly-fact");
        var path = $"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}";

        var first = await world.PostAsync(path, body());
        var after = await ListSnapshot.TakeAsync(world.App);
        var second = await world.PostAsync(path, body());

        Assert.True(first.StatusCode == HttpStatusCode.OK, encoding);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(first.Headers.Contains("Set-Cookie"));
        Assert.Null(first.Headers.Location);
        Assert.Equal(after, await ListSnapshot.TakeAsync(world.App));
        Assert.Equal(new Dictionary<string, SubscriptionStatus>
        {
            ["weekly-tip"] = SubscriptionStatus.Unsubscribed,
            ["weekly-fact"] = SubscriptionStatus.Active,
        }, await EditionsAsync(world, id));
    }

    [Theory]
    [InlineData("urlencoded")]
    [InlineData("multipart")]
    public async Task The_all_editions_button_leaves_every_edition(string encoding)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("leaving@example.org", null, "weekly-tip", "weekly-fact");
        HttpContent body = encoding == "multipart"
            ? HttpAssert.Multipart(("List-Unsubscribe", "One-Click"), ("scope", "all"))
            : SignupWorld.Form(("List-Unsubscribe", "One-Click"), ("scope", "all"));

        var response = await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("unsubscribed from everything", await HttpAssert.BodyAsync(response));
        Assert.All((await EditionsAsync(world, id)).Values, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s));
    }
}
