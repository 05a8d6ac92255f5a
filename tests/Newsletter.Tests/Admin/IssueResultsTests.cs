using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Http;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Admin;

/// <summary>An issue's results on its publication's page and in <c>publications show</c>: delivered,
/// failed, skipped, bounced, reported as spam and the readers who left through its links, as the database has them.</summary>
public sealed class IssueResultsTests
{
    /// <summary>Four delivered (two of whom leave through this issue's link, one through another
    /// issue's), one failed, one skipped; of the delivered, one bounced for good, one bounced twice for
    /// now, one complained; a report about nobody and one about another issue count nothing here.</summary>
    private static async Task<(int Issue, int Publication)> SendAndLeaveAsync(IssueResultsWorld world)
    {
        var readers = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            readers.Add(await world.ReaderAsync($"reader{i}@example.org"));
        }
        var (issue, publication) = await world.PublicationAsync("weekly-tip",
            (readers[0], DeliveryStatus.Sent), (readers[1], DeliveryStatus.Sent), (readers[2], DeliveryStatus.Sent),
            (readers[3], DeliveryStatus.Sent), (readers[4], DeliveryStatus.Failed), (readers[5], DeliveryStatus.Skipped));
        var (_, earlier) = await world.PublicationAsync("weekly-tip", (readers[3], DeliveryStatus.Sent));
        using (await world.OneClickAsync(world.LinkPath(readers[0], "weekly-tip", publication))) { }
        using (await world.OneClickAsync(world.LinkPath(readers[1], "weekly-tip", publication))) { }
        using (await world.OneClickAsync(world.LinkPath(readers[1], "weekly-tip", publication))) { }
        using (await world.OneClickAsync(world.LinkPath(readers[3], "weekly-tip", earlier))) { }
        await using var db = world.App.OpenDb();
        var key = 0;
        Bounce Returned(BounceKind kind, int? pub, int? reader, BounceOutcome outcome) => new()
        {
            Key = $"{++key}".PadLeft(64, '0'), Kind = kind, PublicationId = pub, SubscriberId = reader, Outcome = outcome, Reason = "test",
        };
        db.Bounces.AddRange(
            Returned(BounceKind.Hard, publication, readers[2], BounceOutcome.Suppressed),
            Returned(BounceKind.Soft, publication, readers[3], BounceOutcome.Counted),
            Returned(BounceKind.Soft, publication, readers[3], BounceOutcome.Counted),
            Returned(BounceKind.Complaint, publication, readers[1], BounceOutcome.Unsubscribed),
            Returned(BounceKind.Hard, publication, null, BounceOutcome.NotOnList),
            Returned(BounceKind.Hard, earlier, readers[3], BounceOutcome.Suppressed),
            Returned(BounceKind.None, publication, readers[0], BounceOutcome.NothingToDo));
        await db.SaveChangesAsync();
        return (issue, publication);
    }

    private static async Task<(int Sent, int Failed, int Skipped, int Unsubscribed)> CountsAsync(IssueResultsWorld world, int publication)
    {
        await using var db = world.App.OpenDb();
        var mine = db.Deliveries.Where(d => d.PublicationId == publication);
        return (await mine.CountAsync(d => d.Status == DeliveryStatus.Sent), await mine.CountAsync(d => d.Status == DeliveryStatus.Failed),
            await mine.CountAsync(d => d.Status == DeliveryStatus.Skipped), await mine.CountAsync(d => d.UnsubscribedAt != null));
    }

    [Fact]
    public async Task The_publication_page_shows_the_issues_results_as_the_database_counts_them()
    {
        var world = await IssueResultsWorld.CreateAsync();
        await using var _ = world;
        var password = await WorkspaceEditor.AddAsync(world.App);
        var (issue, publication) = await SendAndLeaveAsync(world);
        var counts = await CountsAsync(world, publication);
        Assert.Equal((4, 1, 1, 2), counts);
        using var client = await WorkspaceEditor.SignedInAsync(world.App, world.Web, password);

        var page = await client.GetStringAsync($"/admin/publications/{publication}");

        Assert.Contains("<h2>Results</h2>", page, StringComparison.Ordinal);
        Assert.Equal(Text(counts.Sent), Result(page, "delivered"));
        Assert.Equal(Text(counts.Failed), Result(page, "failed"));
        Assert.Equal(Text(counts.Skipped), Result(page, "skipped"));
        Assert.Equal("2 (50.0% of delivered): 1 refused for good, 1 temporarily", Result(page, "bounced"));
        Assert.Equal("1 (25.0% of delivered)", Result(page, "complaints"));
        Assert.Equal($"{Text(counts.Unsubscribed)} (50.0% of delivered)", Result(page, "unsubscribed"));

        using var results = await client.GetAsync($"/admin/issues/{issue}/results");
        Assert.Equal(HttpStatusCode.Redirect, results.StatusCode);
        Assert.Equal($"/admin/publications/{publication}", results.Headers.Location?.OriginalString);
        int queued;
        await using (var db = world.App.OpenDb())
        {
            var unsent = new Issue { Edition = "weekly-tip", Subject = "Not sent yet", BodyMarkdown = "Later.", Status = IssueStatus.Queued };
            db.Issues.Add(unsent);
            await db.SaveChangesAsync();
            queued = unsent.Id;
        }
        using var none = await client.GetAsync($"/admin/issues/{queued}/results");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task Publications_show_prints_the_issues_results_as_the_database_counts_them()
    {
        var world = await IssueResultsWorld.CreateAsync();
        await using var _ = world;
        var (_, publication) = await SendAndLeaveAsync(world);
        var counts = await CountsAsync(world, publication);

        var shown = await world.App.RunCliOkAsync("publications", "show", Text(publication));

        Assert.Contains("  results:\n", shown.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"    delivered:    {Text(counts.Sent)} (failed {Text(counts.Failed)}, skipped {Text(counts.Skipped)})", shown.Out, StringComparison.Ordinal);
        Assert.Contains("    bounced:      2 (50.0% of delivered): 1 refused for good, 1 temporarily", shown.Out, StringComparison.Ordinal);
        Assert.Contains("    complaints:   1 (25.0% of delivered)", shown.Out, StringComparison.Ordinal);
        Assert.Contains($"    unsubscribed: {Text(counts.Unsubscribed)} (50.0% of delivered) through this issue's links", shown.Out, StringComparison.Ordinal);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Result(string page, string name) =>
        Regex.Match(page, $"<td data-result=\"{name}\">([^<]*)</td>").Groups[1].Value;
}
