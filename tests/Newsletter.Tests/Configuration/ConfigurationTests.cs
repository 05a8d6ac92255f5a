using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Cli;
using Newsletter.Worker.Editions;

namespace Newsletter.Tests.Configuration;

/// <summary>Configuration is validated at start and a bad value is reported by its key.</summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string, string, string> BadValues => new()
    {
        { "Editions:weekly-tip:Schedule", "not a cron", "Editions:weekly-tip:Schedule" },
        { "Editions:weekly-fact:TimeZone", "Mars/Olympus", "Editions:weekly-fact:TimeZone" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task A_bad_edition_setting_makes_the_CLI_exit_2_and_name_the_key_on_stderr(string key, string value, string named)
    {
        await using var app = TestApp.Create();
        app.Set(key, value);

        var result = await app.RunCliAsync("editions");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.Contains(value, result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("Smtp:PipelineData")]
    [InlineData("Delivery:PreEncodeBodies")]
    public async Task A_speed_part_switch_that_is_not_true_or_false_stops_the_host_from_starting_naming_the_key(string key)
    {
        await using var app = TestApp.Create();
        app.Set(key, "sometimes");
        using var host = app.BuildHost();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains(key, ex.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task A_bad_edition_setting_stops_the_host_from_starting_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var app = TestApp.Create();
        app.Set(key, value);
        using var host = app.BuildHost();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(ex.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task A_bad_edition_setting_stops_the_web_app_from_starting_with_a_message_naming_the_key(string key, string value, string named)
    {
        // The real executable: a bad setting is one line naming it and exit 2, not an exception.
        await using var app = TestApp.Create();

        var result = await Newsletter.Tests.Cli.ServiceStartTests.StartServiceAsync(app, (key.Replace(":", "__", StringComparison.Ordinal), value));

        Assert.True(result.ExitCode == 2, $"expected the web app to stop with exit 2\n{result}");
        Assert.Contains(result.Error.Split('\n'), l => l.StartsWith("configuration: ", StringComparison.Ordinal) && l.Contains(named, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_Editions_configuration_the_three_editions_exist_with_their_default_schedules()
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync(appSettings: false);
        var configuration = host.Services.GetRequiredService<IConfiguration>();
        Assert.False(configuration.GetSection("Editions").Exists(), "this test needs a host without Editions configuration");

        var editions = host.Services.GetRequiredService<IOptions<EditionsOptions>>().Value;

        Assert.Equal(["monthly-spotlight", "weekly-fact", "weekly-tip"], editions.Keys);
        Assert.Equal(("Fact of the Week", EditionFormat.Fact, "0 0 9 ? * MON", "America/New_York"), Describe(editions.Get("weekly-fact")));
        Assert.Equal(("Tip of the Week", EditionFormat.Tip, "0 0 9 ? * THU", "America/New_York"), Describe(editions.Get("weekly-tip")));
        Assert.Equal(("Monthly Spotlight", EditionFormat.Spotlight, "0 0 9 1 * ?", "America/New_York"), Describe(editions.Get("monthly-spotlight")));
        foreach (var key in editions.Keys)
        {
            Assert.False(string.IsNullOrWhiteSpace(editions.Get(key).ListId));
            Assert.False(string.IsNullOrWhiteSpace(editions.Get(key).From));
        }
    }

    [Fact]
    public async Task The_editions_command_lists_each_edition_with_its_schedule_zone_and_next_slot()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();

        var result = await app.RunCliOkAsync("editions");

        foreach (var key in TestData.Editions)
        {
            Assert.Contains(key, result.Out, StringComparison.Ordinal);
        }
        Assert.Contains("in America/New_York", result.Out, StringComparison.Ordinal);
        Assert.Contains("(America/New_York, UTC", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_given_to_the_CLI_chooses_its_database()
    {
        await using var app = TestApp.Create();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await NewsletterCli.RunAsync(
            ["subscribers", "add", "sam@example.org"], b => b.Configuration.AddInMemoryCollection(app.Settings), output, error);

        Assert.Equal(0, exit);
        Assert.True(File.Exists(app.DatabasePath), $"the CLI did not use {app.DatabasePath}");
    }

    private static (string, EditionFormat, string, string) Describe(EditionOptions e) => (e.DisplayName, e.Format, e.Schedule, e.TimeZone);
}
