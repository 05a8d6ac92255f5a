using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Mailbox;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Bounces;

/// <summary>
/// The bounce mailbox on a real Dovecot, IMAP and POP3: a real send's bounces come back to its VERP
/// addresses, the poller acts on them and clears them out only after committing, a mailbox that is down
/// is retried, and bad input is counted without touching anyone.
/// </summary>
public sealed class BounceMailboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static TestApp Reading(TestApp app, TestDovecot dovecot, MailboxProtocol protocol) => app
        .Set("Messages:Verp:Domain", "news.example.org")
        .Set("Bounces:Protocol", protocol.ToString())
        .Set("Bounces:Host", dovecot.Host)
        .Set("Bounces:Port", (protocol == MailboxProtocol.Imap ? dovecot.ImapPort : dovecot.Pop3Port).ToString(CultureInfo.InvariantCulture))
        .Set("Bounces:Security", "None")
        .Set("Bounces:UserName", dovecot.UserName)
        .Set("Bounces:Password", dovecot.Password);

    private static Task<SuppressionReason?> SuppressedAsync(TestApp app, string email) => BounceRecords.SuppressionAsync(app, email);

    [Fact]
    public async Task A_sends_bounces_read_over_IMAP_suppress_their_readers_count_in_the_results_and_keep_the_next_issue_from_them()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = Reading(TestApp.Create(), dovecot, MailboxProtocol.Imap);
        app.UseSmtp(smtp.Port);
        string[] readers = ["hard@example.org", "complains@example.org", "soft@example.org", "away@example.org"];
        foreach (var reader in readers)
        {
            await app.RunCliOkAsync("subscribers", "add", reader, "--confirmed", "--editions", "weekly-tip,weekly-fact");
        }
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        await app.RunCliOkAsync("issues", "send-now", issue.ToString(CultureInfo.InvariantCulture));
        await smtp.WaitForMessagesAsync(4, Wait);
        var verp = smtp.Messages.ToDictionary(m => m.RcptTo[0], m => m.MailFrom);
        Assert.All(verp.Values, from => Assert.StartsWith("bounces+", from, StringComparison.Ordinal));

        await dovecot.DropAsync(BounceSamples.Dsn(verp["hard@example.org"], "hard@example.org", "5.1.1"));
        await dovecot.DropAsync(BounceSamples.Complaint(verp["complains@example.org"], "complains@example.org"));
        await dovecot.DropAsync(BounceSamples.Dsn(verp["soft@example.org"], "soft@example.org", "4.2.2"));
        await dovecot.DropAsync(BounceSamples.OutOfOffice(verp["away@example.org"], "away@example.org"));
        var poll = await app.RunCliOkAsync("bounces", "poll");

        Assert.Contains("4 read, 3 acted on, 0 seen before, 0 unreadable, 0 left for a person.", poll.Out, StringComparison.Ordinal);
        Assert.Equal((0, 4), (dovecot.Count("INBOX"), dovecot.Count("Processed")));
        Assert.Equal(SuppressionReason.HardBounce, await SuppressedAsync(app, "hard@example.org"));
        Assert.Equal(SuppressionReason.Complaint, await SuppressedAsync(app, "complains@example.org"));
        Assert.Null(await SuppressedAsync(app, "soft@example.org"));
        Assert.Null(await SuppressedAsync(app, "away@example.org"));
        int publication;
        await using (var db = app.OpenDb())
        {
            publication = await db.Publications.Where(p => p.IssueId == issue).Select(p => p.Id).SingleAsync();
            Assert.All(await db.Subscriptions.Where(s => s.Subscriber!.Email == "complains@example.org").ToListAsync(),
                s => Assert.Equal(SubscriptionStatus.Unsubscribed, s.Status));
        }
        var shown = await app.RunCliOkAsync("publications", "show", publication.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("bounced:      2 (50.0% of delivered): 1 refused for good, 1 temporarily", shown.Out, StringComparison.Ordinal);
        Assert.Contains("complaints:   1 (25.0% of delivered)", shown.Out, StringComparison.Ordinal);

        var next = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));
        await app.RunCliOkAsync("issues", "send-now", next.ToString(CultureInfo.InvariantCulture));
        await smtp.WaitForMessagesAsync(6, Wait);
        Assert.Equal(["away@example.org", "soft@example.org"], smtp.Messages.Skip(4).Select(m => m.RcptTo[0]).Order());
        var again = await app.RunCliOkAsync("bounces", "poll");
        Assert.Contains("0 read", again.Out, StringComparison.Ordinal);
        var status = await app.RunCliOkAsync("bounces", "status");
        Assert.Contains($"mailbox:        IMAP bounces@127.0.0.1:{dovecot.ImapPort} (None), folder INBOX → Processed", status.Out, StringComparison.Ordinal);
        Assert.Contains("last poll:      ", status.Out, StringComparison.Ordinal);
        Assert.Contains("succeeded", status.Out, StringComparison.Ordinal);
        Assert.Contains("by source: mailbox 4", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_POP3_reports_are_deleted_once_committed_and_a_persons_message_stays()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = Reading(TestApp.Create(), dovecot, MailboxProtocol.Pop3);
        await app.RunCliOkAsync("subscribers", "add", "hard@example.org", "--confirmed", "--editions", "weekly-tip");
        await dovecot.DropAsync(BounceSamples.Dsn("bounces@news.example.org", "hard@example.org", "5.1.1"));
        await dovecot.DropAsync(BounceSamples.FromAPerson("bounces@news.example.org"));
        await dovecot.DropAsync(BounceSamples.OutOfOffice("bounces@news.example.org", "away@example.org"));

        var poll = await app.RunCliOkAsync("bounces", "poll");

        Assert.Contains("3 read, 1 acted on, 0 seen before, 0 unreadable, 1 left for a person.", poll.Out, StringComparison.Ordinal);
        Assert.Equal(SuppressionReason.HardBounce, await SuppressedAsync(app, "hard@example.org"));
        var left = Assert.Single(dovecot.Messages("INBOX"));
        Assert.Equal("Question about the newsletter", left.Parse().Subject);
        await using var db = app.OpenDb();
        Assert.Equal(3, await db.Bounces.CountAsync());
    }

    [Fact]
    public async Task Bad_input_is_counted_and_cleared_without_stopping_the_poll_or_touching_anyone()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = Reading(TestApp.Create(), dovecot, MailboxProtocol.Imap);
        await app.RunCliOkAsync("subscribers", "add", "kim@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "lee@example.org", "--confirmed", "--editions", "weekly-tip");
        int kim;
        await using (var db = app.OpenDb())
        {
            kim = await db.Subscribers.Where(s => s.Email == "kim@example.org").Select(s => s.Id).SingleAsync();
        }
        var forged = $"bounces+1-{kim}-aaaaaaaaaaaaaaaa@news.example.org";
        var huge = "Subject: big\r\nMessage-ID: <big@example.net>\r\nContent-Type: text/plain\r\n\r\n" + new string('x', 50 * 1024 * 1024);
        await dovecot.DropAsync(huge);
        // Not a message MimeKit can parse: unreadable, like the 50 MB one.
        await dovecot.DropAsync("\u0000\u0001 not a message at all \r\n--\r\n\r\n\u00ff"u8.ToArray());
        await dovecot.DropAsync(BounceSamples.Dsn(forged, "kim@example.org", "5.1.1"));
        await dovecot.DropAsync(BounceSamples.Dsn("bounces@news.example.org", "stranger@example.org", "5.1.1"));
        await dovecot.DropAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Bounces", "Corpus", "bounce-about-a-bounce-dsn.eml")));
        await dovecot.DropAsync(BounceSamples.Dsn("bounces@news.example.org", "lee@example.org", "5.1.1"));

        var poll = await app.RunCliOkAsync("bounces", "poll");

        Assert.Contains("6 read, 1 acted on, 0 seen before, 2 unreadable", poll.Out, StringComparison.Ordinal);
        Assert.Equal((0, 6), (dovecot.Count("INBOX"), dovecot.Count("Processed")));
        Assert.Null(await SuppressedAsync(app, "kim@example.org"));
        Assert.Equal(SuppressionReason.HardBounce, await SuppressedAsync(app, "lee@example.org"));
        var status = await app.RunCliOkAsync("bounces", "status");
        Assert.Contains("forged VERP tokens ignored            1", status.Out, StringComparison.Ordinal);
        Assert.Contains("unreadable or too large               2", status.Out, StringComparison.Ordinal);
        Assert.Contains("not about anyone on the list          1", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mailbox_that_is_down_is_retried_with_back_off_shown_in_status_and_read_once_it_is_back()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = Reading(TestApp.Create(), dovecot, MailboxProtocol.Imap)
            .Set("Bounces:PollInterval", "00:00:01").Set("Bounces:MaxRetryDelay", "00:00:02");
        await app.RunCliOkAsync("subscribers", "add", "kim@example.org", "--confirmed", "--editions", "weekly-tip");
        await dovecot.StopAsync();
        await using var host = await app.StartHostAsync(s => s.AddHostedService(sp => sp.GetRequiredService<BouncePoller>()));
        await host.Host.StartAsync();

        CliResult? failing = null;
        await Poll.UntilAsync(async () =>
        {
            failing = await app.RunCliOkAsync("bounces", "status");
            var failures = System.Text.RegularExpressions.Regex.Match(failing.Out, @"failing: +(\d+) poll\(s\) in a row");
            return failures.Success && int.Parse(failures.Groups[1].Value, CultureInfo.InvariantCulture) >= 3;
        }, "three failed polls in the status", Wait);
        Assert.NotNull(failing);
        Assert.Contains("last error:     ", failing.Out, StringComparison.Ordinal);
        Assert.Contains("refused", failing.Out, StringComparison.OrdinalIgnoreCase);

        await dovecot.DropAsync(BounceSamples.Dsn("bounces@news.example.org", "kim@example.org", "5.1.1"));
        await dovecot.RestartAsync();
        // The status is written when the poll ends, just after the bounce it read was committed.
        CliResult? recovered = null;
        await Poll.UntilAsync(async () =>
        {
            recovered = await app.RunCliOkAsync("bounces", "status");
            return recovered.Out.Contains("succeeded", StringComparison.Ordinal);
        }, "a successful poll once the mailbox is back", Wait);
        Assert.DoesNotContain("failing:", recovered!.Out, StringComparison.Ordinal);
        Assert.Equal(SuppressionReason.HardBounce, await SuppressedAsync(app, "kim@example.org"));
    }

    [Fact]
    public async Task A_poller_killed_mid_poll_loses_and_double_counts_nothing_when_it_runs_again()
    {
        const int Messages = 300;
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = Reading(TestApp.Create(), dovecot, MailboxProtocol.Imap).Set("Bounces:SoftBounceLimit", "1000");
        await app.RunCliOkAsync("subscribers", "add", "kim@example.org", "--confirmed", "--editions", "weekly-tip");
        for (var i = 0; i < Messages; i++)
        {
            await dovecot.DropAsync(BounceSamples.Dsn("bounces@news.example.org", "kim@example.org", "4.2.2"));
        }

        using (var poller = NewsletterProcess.Start(app, ["bounces", "poll"]))
        {
            await Poll.UntilAsync(async () =>
            {
                await using var db = app.OpenDb();
                return await db.Bounces.CountAsync() >= 20 || poller.HasExited;
            }, "the first bounces committed", Wait);
            poller.Kill();
        }
        int partial;
        await using (var db = app.OpenDb())
        {
            partial = await db.Bounces.CountAsync();
        }
        Assert.InRange(partial, 1, Messages - 1);
        Assert.Equal(Messages, dovecot.Count("INBOX") + dovecot.Count("Processed"));

        await app.RunCliOkAsync("bounces", "poll");

        await using (var db = app.OpenDb())
        {
            Assert.Equal(Messages, await db.Bounces.CountAsync(b => b.Kind == BounceKind.Soft && b.Outcome == BounceOutcome.Counted));
        }
        Assert.Equal((0, Messages), (dovecot.Count("INBOX"), dovecot.Count("Processed")));
    }
}
