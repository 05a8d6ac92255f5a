using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>The crisis region chosen on the sign-up form (pre-selected from the browser's languages) and changed on the preferences page.</summary>
public sealed partial class CrisisRegionPagesTests
{
    private static async Task<string?> RegionAsync(SignupWorld world, string email)
    {
        await using var db = world.App.OpenDb();
        return await db.Subscribers.Where(s => s.NormalizedEmail == email).Select(s => s.CrisisRegion).SingleAsync();
    }

    private static string? Selected(string html) => SelectedOption().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    private static async Task<string> GetAsync(SignupWorld world, string path, string? acceptLanguage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }
        using var response = await world.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Theory]
    [InlineData("en-GB,en;q=0.8", "uk-ie")]
    [InlineData("en-AU", "au")]
    [InlineData("fr-CA", "us-ca")]
    [InlineData("pt-BR", "international")]
    [InlineData(null, "international")]
    public async Task The_sign_up_form_pre_selects_the_region_the_browser_s_language_suggests(string? acceptLanguage, string expected)
    {
        await using var world = await SignupWorld.StartAsync();

        var html = await GetAsync(world, "/subscribe", acceptLanguage);

        Assert.Contains("<label for=\"crisis-region\">", html, StringComparison.Ordinal);
        Assert.Contains("<select id=\"crisis-region\" name=\"crisis_region\" aria-describedby=\"crisis-region-hint\">", html, StringComparison.Ordinal);
        Assert.Equal(expected, Selected(html));
    }

    [Fact]
    public async Task The_region_chosen_at_sign_up_is_stored_and_an_unknown_one_becomes_the_fallback_without_losing_the_sign_up()
    {
        await using var world = await SignupWorld.StartAsync();

        var uk = await world.PostAsync("/subscribe", SignupWorld.Form(("email", "uk@example.org"), ("editions", "weekly-tip"), ("crisis_region", "uk-ie")));
        var odd = await world.PostAsync("/subscribe", SignupWorld.Form(("email", "odd@example.org"), ("editions", "weekly-tip"), ("crisis_region", "<atlantis>")));
        var none = await world.PostAsync("/subscribe", SignupWorld.Form(("email", "snippet@example.org"), ("editions", "weekly-tip")));

        Assert.All(new[] { uk, odd, none }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal("uk-ie", await RegionAsync(world, "uk@example.org"));
        Assert.Equal("international", await RegionAsync(world, "odd@example.org"));
        // A form without the choice (an older snippet on another site): nothing stored, the general line.
        Assert.Null(await RegionAsync(world, "snippet@example.org"));
    }

    [Fact]
    public async Task A_rejected_sign_up_keeps_the_chosen_region_selected()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.PostAsync("/subscribe", SignupWorld.Form(("email", "not an address"), ("editions", "weekly-tip"), ("crisis_region", "au")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("au", Selected(await HttpAssert.BodyAsync(response)));
    }

    [Fact]
    public async Task The_preferences_page_shows_the_stored_region_and_saving_changes_it()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", "Sam", "weekly-tip");
        var token = world.PreferencesToken(id);
        // Signed up through a form without the choice: the browser's language suggests one, nothing is stored yet.
        Assert.Null(await RegionAsync(world, "prefs@example.org"));
        Assert.Equal("uk-ie", Selected(await GetAsync(world, $"/preferences/{token}", "en-GB")));
        Assert.Null(await RegionAsync(world, "prefs@example.org"));

        var saved = await world.PostAsync($"/preferences/{token}", SignupWorld.Form(("editions", "weekly-tip"), ("crisis_region", "au")));

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal("au", Selected(await HttpAssert.BodyAsync(saved)));
        Assert.Equal("au", await RegionAsync(world, "prefs@example.org"));
        // Stored beats the browser from now on.
        Assert.Equal("au", Selected(await GetAsync(world, $"/preferences/{token}", "en-GB")));

        await world.PostAsync($"/preferences/{token}", SignupWorld.Form(("editions", "weekly-tip"), ("crisis_region", "nowhere")));
        Assert.Equal("international", await RegionAsync(world, "prefs@example.org"));
        // A save without the field (the JSON API, say) leaves the region alone.
        await world.PostAsync($"/preferences/{token}", SignupWorld.Json("""{"editions":["weekly-tip"]}"""));
        Assert.Equal("international", await RegionAsync(world, "prefs@example.org"));
    }

    [Fact]
    public async Task With_regions_turned_off_no_page_asks_and_nothing_is_stored()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("CrisisRegions:Enabled", "false"));

        var form = await GetAsync(world, "/subscribe", "en-GB");
        await world.PostAsync("/subscribe", SignupWorld.Form(("email", "uk@example.org"), ("editions", "weekly-tip"), ("crisis_region", "uk-ie")));

        Assert.DoesNotContain("crisis-region", form, StringComparison.Ordinal);
        Assert.Null(await RegionAsync(world, "uk@example.org"));
    }

    [Fact]
    public async Task A_configured_region_name_is_escaped_on_the_pages()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("CrisisRegions:Regions:2:Name", "Australia <b>&</b> \"friends\""));

        var html = await GetAsync(world, "/subscribe", "en-AU");

        Assert.Contains("Australia &lt;b&gt;&amp;&lt;/b&gt; &quot;friends&quot;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>&</b>", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("<option value=\"([^\"]+)\" selected>")]
    private static partial Regex SelectedOption();
}
