using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Links;

namespace Newsletter.Tests.Http;

/// <summary>Readers' links name a random key, can be revoked all at once, and an old confirmation link is no key to the preferences page.</summary>
public sealed class ReaderLinksTests
{
    private static async Task<SubscriptionStatus> StatusAsync(SignupWorld world, int id, string edition)
    {
        await using var db = world.App.OpenDb();
        return (await db.Subscriptions.SingleAsync(s => s.SubscriberId == id && s.Edition == edition)).Status;
    }

    [Fact]
    public async Task A_preferences_link_from_before_the_reader_revoked_their_links_is_refused_and_a_newer_one_opens()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("robin@example.org", "Robin", "weekly-tip");
        var forwarded = world.PreferencesToken(id);
        world.Time.Advance(TimeSpan.FromMinutes(5));

        var revoked = await world.PostAsync($"/preferences/{world.PreferencesToken(id)}/revoke");

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.DoesNotContain("/preferences/", await HttpAssert.BodyAsync(revoked), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await world.Client.GetAsync($"/preferences/{forwarded}")).StatusCode);
        var renamed = await world.PostAsync($"/preferences/{forwarded}", SignupWorld.Form(("name", "Mallory"), ("editions", "weekly-tip")));
        Assert.Equal(HttpStatusCode.BadRequest, renamed.StatusCode);
        world.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await world.Client.GetAsync($"/preferences/{world.PreferencesToken(id)}")).StatusCode);
        await using var db = world.App.OpenDb();
        Assert.Equal("Robin", (await db.Subscribers.SingleAsync()).Name);
    }

    [Fact]
    public async Task An_unsubscribe_link_from_before_a_revocation_still_unsubscribes_in_one_click_but_opens_nothing_else()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("robin@example.org", null, "weekly-tip", "weekly-fact");
        var inSentEmail = world.UnsubscribeToken(id, "weekly-tip");
        world.Time.Advance(TimeSpan.FromMinutes(5));
        await world.App.RunCliOkAsync("subscribers", "revoke-links", "robin@example.org");

        var page = await world.Client.GetAsync($"/unsubscribe/{inSentEmail}");
        var pause = await world.PostAsync($"/unsubscribe/{inSentEmail}/pause", SignupWorld.Form(("length", "2w")));
        var oneClick = await world.PostAsync($"/unsubscribe/{inSentEmail}", SignupWorld.Form(("List-Unsubscribe", "One-Click")));

        var body = await HttpAssert.BodyAsync(page);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("/preferences/", body, StringComparison.Ordinal);
        Assert.DoesNotContain("/pause", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, pause.StatusCode);
        Assert.Equal(HttpStatusCode.OK, oneClick.StatusCode);
        Assert.DoesNotContain("/preferences/", await HttpAssert.BodyAsync(oneClick), StringComparison.Ordinal);
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(world, id, "weekly-tip"));
        Assert.Equal(SubscriptionStatus.Active, await StatusAsync(world, id, "weekly-fact"));
    }

    [Fact]
    public async Task An_old_confirmation_link_confirms_but_does_not_open_the_preferences_page()
    {
        await using var world = await SignupWorld.StartAsync();
        var link = await world.SignUpAndGetLinkAsync("robin@example.org", null, "weekly-tip");
        var first = await world.PostAsync(link);
        Assert.Contains("/preferences/", await HttpAssert.BodyAsync(first), StringComparison.Ordinal);

        var later = await world.Client.GetAsync(link);
        var again = await world.PostAsync(link);

        Assert.Contains("already confirmed", await HttpAssert.BodyAsync(later), StringComparison.Ordinal);
        Assert.DoesNotContain("/preferences/", await HttpAssert.BodyAsync(later), StringComparison.Ordinal);
        Assert.DoesNotContain("/preferences/", await HttpAssert.BodyAsync(again), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_from_before_an_export_and_reimport_opens_nobodys_page_in_the_new_database()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("robin@example.org", "Robin", "weekly-tip");
        var oldLink = world.PreferencesToken(id);
        var oldRowIdLink = SigningKeysTests.V1Token(Convert.FromBase64String(TestApp.FixedTokenSecret), TokenPurpose.Preferences, id);
        var csv = Path.Combine(world.App.Directory, "list.csv");
        await world.App.RunCliOkAsync("subscribers", "export", "--out", csv);

        await using var fresh = TestApp.Create();
        await fresh.RunCliOkAsync("subscribers", "import", csv);
        await using var web = fresh.CreateWebApp();
        using var client = web.CreateClient();

        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/preferences/{oldLink}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/preferences/{oldRowIdLink}")).StatusCode);
        await using var db = fresh.OpenDb();
        var reimported = await db.Subscribers.SingleAsync();
        Assert.Equal(id, reimported.Id);
        Assert.NotEqual(world.LinkKeyOf(id), reimported.LinkKey);
    }

    [Fact]
    public async Task A_link_naming_a_row_id_still_opens_the_page_of_a_reader_who_was_on_the_list_when_such_links_were_sent()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("robin@example.org", "Robin", "weekly-tip");
        var sentBefore = SigningKeysTests.V1Token(Convert.FromBase64String(TestApp.FixedTokenSecret), TokenPurpose.Preferences, id);
        Assert.Equal(HttpStatusCode.BadRequest, (await world.Client.GetAsync($"/preferences/{sentBefore}")).StatusCode);
        await using (var db = world.App.OpenDb())
        {
            // As the migration marks the readers already on the list.
            await db.Subscribers.ExecuteUpdateAsync(u => u.SetProperty(s => s.LegacyLinks, true));
        }

        Assert.Equal(HttpStatusCode.OK, (await world.Client.GetAsync($"/preferences/{sentBefore}")).StatusCode);
    }
}
