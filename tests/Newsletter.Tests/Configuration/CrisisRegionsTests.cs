using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Configuration;

namespace Newsletter.Tests.Configuration;

/// <summary>The crisis-region table: its defaults from appsettings.json, the browser-language suggestion,
/// keys from a form, and the checks made when the host starts.</summary>
public sealed class CrisisRegionsTests
{
    private static async Task<CrisisLines> LinesAsync(TestApp app, bool appSettings = true)
    {
        var host = await app.StartHostAsync(appSettings: appSettings);
        await using (host)
        {
            return host.Services.GetRequiredService<CrisisLines>();
        }
    }

    [Fact]
    public async Task The_default_table_has_the_four_regions_with_international_as_the_fallback()
    {
        await using var app = TestApp.Create();
        var lines = await LinesAsync(app);

        Assert.True(lines.Enabled);
        Assert.Equal(["us-ca", "uk-ie", "au", "international"], lines.Regions.Select(r => r.Key));
        Assert.Equal("international", lines.Fallback);
        Assert.Contains("988", lines.LineFor("us-ca"), StringComparison.Ordinal);
        Assert.Contains("116 123", lines.LineFor("uk-ie"), StringComparison.Ordinal);
        Assert.Contains("13 11 14", lines.LineFor("au"), StringComparison.Ordinal);
        Assert.Contains("findahelpline.com", lines.LineFor("international"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en-GB,en;q=0.9", "uk-ie")]
    [InlineData("cy-GB", "uk-ie")]
    [InlineData("en-IE", "uk-ie")]
    [InlineData("fr-CA,fr;q=0.8", "us-ca")]
    [InlineData("en-US", "us-ca")]
    [InlineData("en-AU", "au")]
    [InlineData("de-DE,de;q=0.9", "international")]
    [InlineData("en", "international")]
    [InlineData("de;q=0.9,en-AU;q=0.8", "au")]
    [InlineData("en-GB;q=0.1,en-AU;q=0.9", "au")]
    [InlineData("en-GB;q=0", "international")]
    [InlineData("", "international")]
    [InlineData("🙂, ;;;q=x", "international")]
    public async Task The_browser_s_languages_suggest_a_region(string acceptLanguage, string expected)
    {
        await using var app = TestApp.Create();
        Assert.Equal(expected, (await LinesAsync(app)).Suggest(acceptLanguage));
    }

    [Fact]
    public async Task A_posted_key_is_kept_when_known_and_otherwise_becomes_the_fallback()
    {
        await using var app = TestApp.Create();
        var lines = await LinesAsync(app);

        Assert.Equal("au", lines.Normalize("au"));
        Assert.Equal("uk-ie", lines.Normalize(" UK-IE "));
        Assert.Equal("international", lines.Normalize("atlantis"));
        Assert.Equal("international", lines.Normalize(new string('x', 5000)));
        Assert.Null(lines.Normalize(null));
        // A key taken out of the table since the reader chose it: the fallback's line; never chosen: the general line.
        Assert.Equal(lines.LineFor("international"), lines.LineFor("atlantis"));
        Assert.Null(lines.LineFor(null));
    }

    [Fact]
    public async Task Turned_off_or_without_a_table_every_email_keeps_the_general_line_and_no_page_asks()
    {
        await using var app = TestApp.Create();
        app.Set("CrisisRegions:Enabled", "false");
        var off = await LinesAsync(app);
        await using var bare = TestApp.Create();
        var none = await LinesAsync(bare, appSettings: false);

        foreach (var lines in new[] { off, none })
        {
            Assert.False(lines.Enabled);
            Assert.Empty(lines.Regions);
            Assert.Null(lines.LineFor("uk-ie"));
            Assert.Null(lines.Suggest("en-GB"));
            Assert.Null(lines.Normalize("uk-ie"));
        }
    }

    [Fact]
    public async Task An_editor_s_settings_change_a_region_s_line_and_add_a_region_by_position()
    {
        await using var app = TestApp.Create();
        app.Set("CrisisRegions:Regions:2:Line", "In Australia, Lifeline answers on 13 11 14.")
            .Set("CrisisRegions:Regions:4:Key", "nz")
            .Set("CrisisRegions:Regions:4:Name", "New Zealand")
            .Set("CrisisRegions:Regions:4:Line", "In Aotearoa New Zealand, call or text 1737 any time.")
            .Set("CrisisRegions:Regions:4:Languages:0", "en-NZ");
        var lines = await LinesAsync(app);

        Assert.Equal(["us-ca", "uk-ie", "au", "international", "nz"], lines.Regions.Select(r => r.Key));
        Assert.Equal("In Australia, Lifeline answers on 13 11 14.", lines.LineFor("au"));
        Assert.Equal("nz", lines.Suggest("en-NZ"));
    }

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "CrisisRegions:Fallback", "atlantis", "CrisisRegions:Fallback" },
        { "CrisisRegions:Regions:1:Key", "us-ca", "appears twice" },
        { "CrisisRegions:Regions:1:Key", "UK IE", "CrisisRegions:Regions:1:Key" },
        { "CrisisRegions:Regions:2:Line", "Call\nnow", "CrisisRegions:Regions:2:Line" },
        { "CrisisRegions:Regions:2:Line", new string('x', 501), "CrisisRegions:Regions:2:Line" },
        { "CrisisRegions:Regions:0:Name", " ", "CrisisRegions:Regions:0:Name" },
        { "CrisisRegions:Regions:0:Languages:0", "en_US;", "CrisisRegions:Regions:0:Languages" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_region_setting_stops_the_host_from_starting_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var app = TestApp.Create();
        app.Set(key, value);
        using var host = app.BuildHost();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(ex.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }
}
