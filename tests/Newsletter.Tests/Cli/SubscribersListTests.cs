using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Cli;

/// <summary>`subscribers list` shows each person's state in each edition, as the sender sees it.</summary>
public sealed class SubscribersListTests
{
    private static async Task<TestApp> ListWithThreePeopleAsync()
    {
        var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "sam@example.org", "--name", "Sam", "--confirmed");
        await app.RunCliOkAsync("subscribers", "add", "pat@example.org", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "lee@example.org", "--confirmed");
        await using var db = app.OpenDb();
        // Lee left every edition; Sam left the monthly one.
        await db.Set<Subscription>().Where(s => s.Subscriber!.Email == "lee@example.org" || (s.Subscriber!.Email == "sam@example.org" && s.Edition == "monthly-spotlight"))
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed));
        return app;
    }

    private static string[] Cells(CliResult result, string email) =>
        Assert.Single(result.Out.Split('\n'), l => l.Contains(email, StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Each_person_has_a_state_per_edition_and_someone_who_left_everything_is_not_confirmed()
    {
        await using var app = await ListWithThreePeopleAsync();

        var list = await app.RunCliOkAsync("subscribers", "list");

        var header = list.Out.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["ID", "EMAIL", "NAME", "monthly-spotlight", "weekly-fact", "weekly-tip"], header);
        Assert.Equal(["sam@example.org", "Sam", "left", "confirmed", "confirmed"], Cells(list, "sam@example.org")[1..]);
        Assert.Equal(["pat@example.org", "-", "-", "pending"], Cells(list, "pat@example.org")[1..]);
        Assert.Equal(["lee@example.org", "left", "left", "left"], Cells(list, "lee@example.org")[1..]);
    }

    [Theory]
    [InlineData(new[] { "--state", "pending" }, new[] { "pat@example.org" })]
    [InlineData(new[] { "--state", "left" }, new[] { "sam@example.org", "lee@example.org" })]
    [InlineData(new[] { "--edition", "weekly-tip" }, new[] { "sam@example.org", "pat@example.org", "lee@example.org" })]
    [InlineData(new[] { "--edition", "weekly-tip", "--state", "confirmed" }, new[] { "sam@example.org" })]
    [InlineData(new[] { "--edition", "monthly-spotlight", "--state", "confirmed" }, new string[0])]
    public async Task Filters_narrow_by_edition_and_state(string[] filter, string[] expected)
    {
        await using var app = await ListWithThreePeopleAsync();

        var list = await app.RunCliOkAsync(["subscribers", "list", .. filter]);

        foreach (var email in new[] { "sam@example.org", "pat@example.org", "lee@example.org" })
        {
            Assert.Equal(expected.Contains(email), list.Out.Contains(email, StringComparison.Ordinal));
        }
        if (expected.Length == 0)
        {
            Assert.Contains("No subscribers match", list.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_edition_is_a_usage_error_naming_the_known_editions()
    {
        await using var app = await ListWithThreePeopleAsync();

        var result = await app.RunCliAsync("subscribers", "list", "--edition", "nope");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown edition 'nope'", result.Error, StringComparison.Ordinal);
        Assert.Contains("known editions: monthly-spotlight, weekly-fact, weekly-tip", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task An_unknown_state_is_a_usage_error()
    {
        await using var app = await ListWithThreePeopleAsync();

        var result = await app.RunCliAsync("subscribers", "list", "--state", "gone");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'gone'", result.Error, StringComparison.Ordinal);
    }
}
