using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Http;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Bounces;

/// <summary>What a returned message does, through <c>bounces process FILE.eml</c> on a real database: complaints
/// unsubscribe, hard bounces suppress, soft bounces count up to the limit, and nobody else is touched.</summary>
public sealed class BounceProcessingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static async Task<IssueResultsWorld> WorldAsync() =>
        await IssueResultsWorld.CreateAsync(TestApp.Create().Set("Messages:Verp:Domain", "news.example.org"));

    private static string Verp(IssueResultsWorld world, int publication, int reader) =>
        world.Web.Services.GetRequiredService<VerpAddresses>().For(publication, reader)!.Address;

    private static async Task<CliResult> ProcessAsync(IssueResultsWorld world, string message, DateTimeOffset? at = null, params string[] options)
    {
        var file = world.App.WriteFile($"returned-{Guid.NewGuid():N}.eml", message);
        var result = await world.App.RunCliAsync(["bounces", "process", file, .. options], now: at ?? Now);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static Task<SuppressionReason?> SuppressedAsync(IssueResultsWorld world, string email) => BounceRecords.SuppressionAsync(world.App, email);

    private static Task<List<Bounce>> BouncesAsync(IssueResultsWorld world) => BounceRecords.AllAsync(world.App);

    [Fact]
    public async Task A_hard_bounce_suppresses_the_reader_its_token_names_once_however_often_it_is_read()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var lee = await world.ReaderAsync("lee@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent), (lee, DeliveryStatus.Sent));
        var dsn = BounceSamples.Dsn(Verp(world, publication, kim), "kim@example.org", "5.1.1");

        var first = await ProcessAsync(world, dsn);
        var again = await ProcessAsync(world, dsn);

        Assert.Contains("meaning:    hard bounce", first.Out, StringComparison.Ordinal);
        Assert.Contains($"names:      subscriber {kim} of publication {publication} (by its VERP address)", first.Out, StringComparison.Ordinal);
        Assert.Contains($"outcome:    suppressed (hard or repeated soft) (subscriber {kim}, publication {publication})", first.Out, StringComparison.Ordinal);
        Assert.Contains("already processed before; nothing changed", again.Out, StringComparison.Ordinal);
        var row = Assert.Single(await BouncesAsync(world));
        Assert.Equal((BounceKind.Hard, BounceOutcome.Suppressed, publication, kim, "5.1.1", BounceSource.File),
            (row.Kind, row.Outcome, row.PublicationId, row.SubscriberId, row.Status, row.Source));
        Assert.Equal(SuppressionReason.HardBounce, await SuppressedAsync(world, "kim@example.org"));
        Assert.Null(await SuppressedAsync(world, "lee@example.org"));
    }

    [Fact]
    public async Task A_complaint_found_by_the_originals_return_path_suppresses_and_ends_every_subscription()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org", "weekly-tip", "weekly-fact");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));

        var result = await ProcessAsync(world, BounceSamples.Complaint(Verp(world, publication, kim), "kim@example.org"));

        Assert.Contains("complaints: suppressed and unsubscribed", result.Out, StringComparison.Ordinal);
        Assert.Equal(SuppressionReason.Complaint, await SuppressedAsync(world, "kim@example.org"));
        await using var db = world.App.OpenDb();
        var states = await db.Subscriptions.Where(s => s.SubscriberId == kim).Select(s => s.Status).ToListAsync();
        Assert.Equal(2, states.Count);
        Assert.All(states, s => Assert.Equal(SubscriptionStatus.Unsubscribed, s));
    }

    [Fact]
    public async Task Soft_bounces_suppress_only_when_the_limit_is_reached_within_the_window()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var publications = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            publications.Add((await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent))).PublicationId);
        }
        string Full(int p) => BounceSamples.Dsn(Verp(world, p, kim), "kim@example.org", "5.2.2");

        // The default limit is 3 within 14 days: one 20 days ago has fallen out of the window.
        await ProcessAsync(world, Full(publications[0]), Now.AddDays(-20));
        await ProcessAsync(world, Full(publications[1]), Now.AddDays(-2));
        var second = await ProcessAsync(world, Full(publications[2]), Now.AddDays(-1));
        Assert.Contains("soft bounces counted", second.Out, StringComparison.Ordinal);
        Assert.Null(await SuppressedAsync(world, "kim@example.org"));

        var third = await ProcessAsync(world, Full(publications[3]));

        Assert.Contains("suppressed", third.Out, StringComparison.Ordinal);
        Assert.Equal(SuppressionReason.SoftBounces, await SuppressedAsync(world, "kim@example.org"));
        Assert.EndsWith("; 3 soft bounces within 14 days, so suppressed", (await BouncesAsync(world))[^1].Reason, StringComparison.Ordinal);
        Assert.Equal([BounceOutcome.Counted, BounceOutcome.Counted, BounceOutcome.Counted, BounceOutcome.Suppressed],
            (await BouncesAsync(world)).Select(b => b.Outcome));
    }

    [Fact]
    public async Task A_forged_token_an_unknown_address_a_test_send_and_an_auto_reply_change_nobody()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));
        var forged = Verp(world, publication, kim).Replace($"-{kim}-", $"-{kim + 1}-", StringComparison.Ordinal);

        await ProcessAsync(world, BounceSamples.Dsn(forged, "kim@example.org", "5.1.1"));
        await ProcessAsync(world, BounceSamples.Dsn("bounces@news.example.org", "stranger@example.org", "5.1.1"));
        await ProcessAsync(world, BounceSamples.Dsn(Verp(world, 0, kim), "kim@example.org", "5.1.1"));
        await ProcessAsync(world, BounceSamples.OutOfOffice(Verp(world, publication, kim), "kim@example.org"));

        Assert.Equal([BounceOutcome.Forged, BounceOutcome.NotOnList, BounceOutcome.NotOnList, BounceOutcome.NothingToDo],
            (await BouncesAsync(world)).Select(b => b.Outcome));
        Assert.All(await BouncesAsync(world), b => Assert.Null(b.SubscriberId));
        Assert.Null(await SuppressedAsync(world, "kim@example.org"));
        var status = await world.App.RunCliOkAsync("bounces", "status");
        Assert.Contains("forged VERP tokens ignored            1", status.Out, StringComparison.Ordinal);
        Assert.Contains("not about anyone on the list          2", status.Out, StringComparison.Ordinal);
        Assert.Contains("by source: file 4", status.Out, StringComparison.Ordinal);
        Assert.Contains("mailbox:        off (Bounces:Protocol is not set)", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_token_the_reports_address_names_the_reader_and_their_last_delivered_issue()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));
        var (_, latest) = await world.PublicationAsync("weekly-fact", (kim, DeliveryStatus.Sent));

        await ProcessAsync(world, BounceSamples.Dsn("bounces@news.example.org", "Kim@Example.org", "5.1.1"));

        var row = Assert.Single(await BouncesAsync(world));
        Assert.Equal((kim, latest, BounceOutcome.Suppressed), (row.SubscriberId, row.PublicationId, row.Outcome));
    }

    [Fact]
    public async Task A_hard_bounce_for_another_address_than_the_tokens_reader_is_counted_not_suppressed()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));

        await ProcessAsync(world, BounceSamples.Dsn(Verp(world, publication, kim), "kim.forwarded@example.net", "5.1.1"));

        Assert.Equal(BounceOutcome.Counted, Assert.Single(await BouncesAsync(world)).Outcome);
        Assert.Null(await SuppressedAsync(world, "kim@example.org"));
    }

    [Fact]
    public async Task A_dry_run_says_what_a_message_means_and_changes_nothing()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));

        var result = await ProcessAsync(world, BounceSamples.Dsn(Verp(world, publication, kim), "kim@example.org", "5.1.1"), null, "--dry-run");

        Assert.Contains("Dry run: nothing changed.", result.Out, StringComparison.Ordinal);
        Assert.Empty(await BouncesAsync(world));
        Assert.Null(await SuppressedAsync(world, "kim@example.org"));
    }

    [Fact]
    public async Task Erasing_a_reader_removes_their_bounce_history()
    {
        await using var world = await WorldAsync();
        var kim = await world.ReaderAsync("kim@example.org");
        var lee = await world.ReaderAsync("lee@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent), (lee, DeliveryStatus.Sent));
        await ProcessAsync(world, BounceSamples.Dsn(Verp(world, publication, kim), "kim@example.org", "4.2.2"));
        await ProcessAsync(world, BounceSamples.Dsn(Verp(world, publication, lee), "lee@example.org", "4.2.2"));

        await world.App.RunCliOkAsync("subscribers", "erase", "kim@example.org");

        Assert.Equal([lee], (await BouncesAsync(world)).Select(b => b.SubscriberId));
    }

    [Fact]
    public async Task A_file_that_is_missing_too_large_or_not_a_message_is_refused_in_one_line()
    {
        await using var world = await WorldAsync();
        world.App.Set("Bounces:MaxMessageSize", "16384");
        var missing = await world.App.RunCliAsync("bounces", "process", "no-such.eml");
        var large = await world.App.RunCliAsync("bounces", "process", world.App.WriteFile("large.eml", new string('x', 20_000)));

        Assert.Equal((1, 1), (missing.ExitCode, large.ExitCode));
        Assert.Contains("no such file", missing.Error, StringComparison.Ordinal);
        Assert.Contains("over Bounces:MaxMessageSize", large.Error, StringComparison.Ordinal);
        Assert.All(new[] { missing.Error, large.Error }, e => Assert.Single(e.Trim().Split('\n')));
        Assert.Empty(await BouncesAsync(world));
    }

    [Fact]
    public async Task The_readers_record_in_the_workspace_shows_their_bounces_with_the_servers_words_escaped()
    {
        await using var world = await WorldAsync();
        var password = await Admin.WorkspaceEditor.AddAsync(world.App);
        var kim = await world.ReaderAsync("kim@example.org");
        var (_, publication) = await world.PublicationAsync("weekly-tip", (kim, DeliveryStatus.Sent));
        var dsn = BounceSamples.Dsn(Verp(world, publication, kim), "kim@example.org", "4.2.2")
            .Replace("mailbox said no", "<script>alert(1)</script> quota", StringComparison.Ordinal);
        await ProcessAsync(world, dsn);
        using var client = await Admin.WorkspaceEditor.SignedInAsync(world.App, world.Web, password);

        var page = await client.GetStringAsync($"/admin/readers/{kim}");

        var table = page[page.IndexOf("<table id=\"bounces\">", StringComparison.Ordinal)..];
        Assert.Contains("soft bounce (4.2.2)", table, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/publications/{publication}\">#{publication}</a>", table, StringComparison.Ordinal);
        Assert.Contains("soft bounces counted", table, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; quota", table, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert(1)", page, StringComparison.Ordinal);
    }
}
