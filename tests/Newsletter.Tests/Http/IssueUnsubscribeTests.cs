using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Http;

/// <summary>
/// An email's unsubscribe link names its publication (<c>?p=</c>), so leaving through it counts in that
/// issue's results: on the reader's own delivered message only, once, and only when it changed something.
/// </summary>
public sealed partial class IssueUnsubscribeTests
{
    [Fact]
    public async Task A_one_click_POST_through_an_issue_link_marks_that_delivery_and_no_other()
    {
        await using var world = await IssueResultsWorld.CreateAsync();
        var reader = await world.ReaderAsync("reader@example.org");
        var other = await world.ReaderAsync("other@example.org");
        var (_, first) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Sent), (other, DeliveryStatus.Sent));
        var (_, second) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Sent), (other, DeliveryStatus.Sent));

        using var _ = await world.OneClickAsync(world.LinkPath(reader, "weekly-tip", first));

        var marks = await world.MarksAsync();
        Assert.NotNull(marks[(first, reader)]);
        Assert.Null(marks[(first, other)]);
        Assert.Null(marks[(second, reader)]);
        Assert.Null(marks[(second, other)]);
    }

    public static TheoryData<string> NotTheReadersMessage => new()
    {
        "another reader's publication", "skipped for this reader", "failed for this reader", "another edition's", "no such publication", "not a number",
    };

    [Theory]
    [MemberData(nameof(NotTheReadersMessage))]
    public async Task A_publication_in_the_link_that_did_not_deliver_to_the_reader_marks_nothing_but_the_reader_still_leaves(string kind)
    {
        await using var world = await IssueResultsWorld.CreateAsync();
        var reader = await world.ReaderAsync("reader@example.org");
        var other = await world.ReaderAsync("other@example.org");
        var (_, othersOnly) = await world.PublicationAsync("weekly-tip", (other, DeliveryStatus.Sent));
        var (_, skipped) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Skipped), (other, DeliveryStatus.Sent));
        var (_, failed) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Failed));
        var (_, fact) = await world.PublicationAsync("weekly-fact", (reader, DeliveryStatus.Sent));
        var token = world.LinkPath(reader, "weekly-tip", null);
        var path = kind switch
        {
            "another reader's publication" => $"{token}?p={othersOnly}",
            "skipped for this reader" => $"{token}?p={skipped}",
            "failed for this reader" => $"{token}?p={failed}",
            "another edition's" => $"{token}?p={fact}",
            "no such publication" => $"{token}?p=999999",
            "not a number" => $"{token}?p=1%20OR%201=1",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        using var _ = await world.OneClickAsync(path);

        Assert.All(await world.MarksAsync(), m => Assert.Null(m.Value));
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(world, reader, "weekly-tip"));
    }

    [Fact]
    public async Task A_repeat_or_another_issues_link_from_a_reader_already_gone_counts_nothing_more()
    {
        await using var world = await IssueResultsWorld.CreateAsync();
        var reader = await world.ReaderAsync("reader@example.org");
        var (_, first) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Sent));
        var (_, second) = await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Sent));
        var link = world.LinkPath(reader, "weekly-tip", first);

        using (await world.OneClickAsync(link)) { }
        var marked = (await world.MarksAsync())[(first, reader)];
        using (await world.OneClickAsync(link)) { }
        using (await world.OneClickAsync(world.LinkPath(reader, "weekly-tip", second))) { }
        // Leaving every edition through the same link changes something (the Fact of the Week), yet the
        // message it came in already counts: its mark keeps the first time.
        using (var all = await world.Client.PostAsync(link, new FormUrlEncodedContent([new("scope", "all")])))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, all.StatusCode);
        }

        var marks = await world.MarksAsync();
        Assert.NotNull(marked);
        Assert.Equal(marked, marks[(first, reader)]);
        Assert.Null(marks[(second, reader)]);
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(world, reader, "weekly-fact"));
    }

    [Fact]
    public async Task The_page_keeps_the_publication_so_leaving_every_edition_from_it_counts_too()
    {
        await using var world = await IssueResultsWorld.CreateAsync();
        var reader = await world.ReaderAsync("reader@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-fact", (reader, DeliveryStatus.Sent));
        var link = world.LinkPath(reader, "weekly-fact", publication);

        var page = await world.Client.GetStringAsync(link);
        var action = FormAction().Match(page).Groups[1].Value;
        Assert.Equal(link, action);
        Assert.All(await world.MarksAsync(), m => Assert.Null(m.Value)); // GET changes nothing
        using var posted = await world.Client.PostAsync(action,
            new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click"), new("scope", "all")]));

        Assert.Equal(System.Net.HttpStatusCode.OK, posted.StatusCode);
        Assert.NotNull((await world.MarksAsync())[(publication, reader)]);
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(world, reader, "weekly-tip"));
    }

    [Fact]
    public async Task An_old_link_without_a_publication_still_unsubscribes_and_marks_nothing()
    {
        await using var world = await IssueResultsWorld.CreateAsync();
        var reader = await world.ReaderAsync("reader@example.org");
        await world.PublicationAsync("weekly-tip", (reader, DeliveryStatus.Sent));
        var link = world.LinkPath(reader, "weekly-tip", null);
        Assert.DoesNotContain("?", link, StringComparison.Ordinal);

        var page = await world.Client.GetStringAsync(link);
        Assert.Equal(link, FormAction().Match(page).Groups[1].Value);
        using var _ = await world.OneClickAsync(link);

        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(world, reader, "weekly-tip"));
        Assert.All(await world.MarksAsync(), m => Assert.Null(m.Value));
    }

    private static async Task<SubscriptionStatus> StatusAsync(IssueResultsWorld world, int subscriber, string edition)
    {
        await using var db = world.App.OpenDb();
        return (await db.Subscriptions.SingleAsync(s => s.SubscriberId == subscriber && s.Edition == edition)).Status;
    }

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\"")]
    private static partial Regex FormAction();
}
