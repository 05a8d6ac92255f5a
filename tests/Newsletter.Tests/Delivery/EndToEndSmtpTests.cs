using Newsletter.Tests.Infrastructure.Databases;
using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The whole path: subscribers and an issue added with the CLI, send-now over real SMTP to a
/// loopback server, then the unsubscribe link in the message used through the real web app, and
/// the next issue skipping whoever left.
/// </summary>
public class EndToEndSmtpTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [DatabaseFact]
    public async Task An_issue_sent_now_reaches_each_confirmed_subscriber_once_and_the_unsubscribe_link_works()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port);

        // Three confirmed Tip of the Week readers, one who reads only the Fact, one who never confirmed.
        await app.RunCliOkAsync("subscribers", "add", "a@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "b@example.org", "--confirmed", "--editions", "weekly-tip,weekly-fact", "--name", "Bea");
        await app.RunCliOkAsync("subscribers", "add", "c@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "fact-only@example.org", "--confirmed", "--editions", "weekly-fact");
        await app.RunCliOkAsync("subscribers", "add", "unconfirmed@example.org", "--editions", "weekly-tip");
        string[] tipReaders = ["a@example.org", "b@example.org", "c@example.org"];

        var firstIssue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));
        var send = await app.RunCliOkAsync("issues", "send-now", Id(firstIssue));

        Assert.Contains("to 3 recipient(s)", send.Out, StringComparison.Ordinal);
        Assert.Contains("Done: 3 sent, 0 failed, 0 skipped of 3.", send.Out, StringComparison.Ordinal);
        await smtp.WaitForMessagesAsync(3, Wait);
        var first = smtp.Messages;
        Assert.Equal(tipReaders, first.Select(m => Assert.Single(m.RcptTo)).Order());
        int firstPublication;
        await using (var db = app.OpenDb())
        {
            firstPublication = (await db.Publications.SingleAsync(p => p.IssueId == firstIssue)).Id;
        }
        foreach (var received in first)
        {
            AssertWellFormed(received, "Tip of the Week <weekly-tip.newsletter.example.org>", firstPublication);
        }

        // The links as the messages carry them (naming their publication), and their bare tokens.
        var links = first.ToDictionary(m => m.RcptTo[0], m => LinkPathOf(m.Message));
        var tokens = links.ToDictionary(l => l.Key, l => l.Value["/unsubscribe/".Length..l.Value.IndexOf('?', StringComparison.Ordinal)]);
        var ids = await SubscriberIdsAsync(app);

        await using (var web = app.CreateWebApp())
        {
            using var client = web.CreateNoRedirectClient();

            // Each message carries the reader's own preferences link, in both parts; it opens their page.
            foreach (var received in first)
            {
                var alternative = (MultipartAlternative)received.Message.Body!;
                var html = ((TextPart)alternative[^1]).Text;
                var match = System.Text.RegularExpressions.Regex.Match(html, @"https://news\.example\.org(/preferences/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)");
                Assert.True(match.Success, $"no preferences link in the message to {received.RcptTo[0]}");
                Assert.Contains(match.Value, ((TextPart)alternative[0]).Text, StringComparison.Ordinal);
                using var preferences = await client.GetAsync(match.Groups[1].Value);
                Assert.Equal(HttpStatusCode.OK, preferences.StatusCode);
                Assert.Contains(received.RcptTo[0], await preferences.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // GET shows a page with a form and changes nothing (link scanners prefetch).
            using (var page = await client.GetAsync(links["a@example.org"]))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                var html = await page.Content.ReadAsStringAsync();
                Assert.Contains("<form method=\"post\"", html, StringComparison.Ordinal);
                Assert.Contains("Tip of the Week", html, StringComparison.Ordinal);
                Assert.False(page.Headers.Contains("Set-Cookie"));
            }
            Assert.Equal(SubscriptionStatus.Active, await TipStatusAsync(app, ids["a@example.org"]));

            // One-click POST, as Gmail sends it.
            using (var posted = await client.PostAsync(links["a@example.org"], OneClickUrlEncoded()))
            {
                Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
                Assert.Contains("unsubscribed", await posted.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            }
            Assert.Equal(SubscriptionStatus.Unsubscribed, await TipStatusAsync(app, ids["a@example.org"]));

            // Again: harmless.
            using (var again = await client.PostAsync(links["a@example.org"], OneClickUrlEncoded()))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            }
            Assert.Equal(SubscriptionStatus.Unsubscribed, await TipStatusAsync(app, ids["a@example.org"]));

            // The other encoding.
            using (var multipart = await client.PostAsync(links["b@example.org"], OneClickMultipart()))
            {
                Assert.Equal(HttpStatusCode.OK, multipart.StatusCode);
            }
            Assert.Equal(SubscriptionStatus.Unsubscribed, await TipStatusAsync(app, ids["b@example.org"]));
            // Only the edition the link was for: b still gets the Fact of the Week.
            await using (var db = app.OpenDb())
            {
                var fact = await db.Subscriptions.SingleAsync(s => s.SubscriberId == ids["b@example.org"] && s.Edition == "weekly-fact");
                Assert.Equal(SubscriptionStatus.Active, fact.Status);
                // The issue's results: a and b left through its links, c did not.
                var left = await db.Deliveries.Where(d => d.PublicationId == firstPublication && d.UnsubscribedAt != null)
                    .Select(d => d.SubscriberId).ToListAsync();
                Assert.Equal(new[] { ids["a@example.org"], ids["b@example.org"] }.Order(), left.Order());
            }

            // A forged or cut-short token is refused on both methods and changes nothing.
            var good = tokens["c@example.org"];
            foreach (var bad in new[] { Forged(good), good[..^10], good[..good.IndexOf('.', StringComparison.Ordinal)] })
            {
                using var get = await client.GetAsync(UnsubscribePath(bad));
                Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
                using var post = await client.PostAsync(UnsubscribePath(bad), OneClickUrlEncoded());
                Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
            }
            Assert.Equal(SubscriptionStatus.Active, await TipStatusAsync(app, ids["c@example.org"]));
        }

        // The next issue of the edition skips whoever left.
        var secondPath = app.WriteFile("second-tip.md", TestData.TipIssue("Tip of the Week: a second small kindness"));
        var secondIssue = await IssueQueueCliTests.QueueAsync(app, secondPath);
        var secondSend = await app.RunCliOkAsync("issues", "send-now", Id(secondIssue));

        Assert.Contains("to 1 recipient(s)", secondSend.Out, StringComparison.Ordinal);
        await smtp.WaitForMessagesAsync(4, Wait);
        var second = smtp.Messages.Skip(3).ToList();
        var only = Assert.Single(second);
        Assert.Equal(["c@example.org"], only.RcptTo);
        Assert.Equal("Tip of the Week: a second small kindness", only.Message.Subject);
        Assert.Equal(4, smtp.Messages.Count);
    }

    [DatabaseFact]
    public async Task With_the_default_transport_send_now_writes_one_parseable_eml_per_recipient_to_the_pickup_folder()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "a@example.org", "--confirmed", "--editions", "weekly-fact");
        await app.RunCliOkAsync("subscribers", "add", "b@example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "add", "tip-only@example.org", "--confirmed", "--editions", "weekly-tip");
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-fact"));

        var send = await app.RunCliOkAsync("issues", "send-now", Id(issue));

        Assert.Contains("Done: 2 sent", send.Out, StringComparison.Ordinal);
        var files = Directory.GetFiles(app.PickupDirectory);
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.EndsWith(".eml", f, StringComparison.Ordinal));
        var messages = files.Select(f => MimeMessage.Load(f)).ToList();
        Assert.Equal(["a@example.org", "b@example.org"], messages.Select(m => Assert.Single(m.To.Mailboxes).Address).Order());
        foreach (var message in messages)
        {
            Assert.Equal("Fact of the Week: sleep and mood talk to each other", message.Subject);
            Assert.StartsWith($"<{TestApp.PublicBaseUrl}/unsubscribe/", message.Headers["List-Unsubscribe"], StringComparison.Ordinal);
            Assert.IsType<MultipartAlternative>(message.Body);
        }
        await using var db = app.OpenDb();
        var publication = await db.Publications.SingleAsync();
        Assert.Equal(Newsletter.Worker.Data.PublicationStatus.Completed, publication.Status);
        Assert.All(messages, m => Assert.EndsWith($"?p={publication.Id}>", m.Headers["List-Unsubscribe"], StringComparison.Ordinal));
        Assert.Equal(Newsletter.Worker.Data.IssueStatus.Published, (await db.Issues.SingleAsync()).Status);
    }

    [DatabaseFact]
    public async Task Send_now_has_written_all_its_progress_when_it_returns()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "a@example.org", "--confirmed");
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));

        var result = await app.RunCliOkAsync("issues", "send-now", Id(issue));

        var lines = result.Out.Split('\n');
        var final = Array.FindIndex(lines, l => l.Contains("1/1 (100.0%)", StringComparison.Ordinal));
        var done = Array.FindIndex(lines, l => l.StartsWith("Done:", StringComparison.Ordinal));
        Assert.True(final >= 0 && final < done, $"the final progress line should come before 'Done:'\n{result}");
    }

    /// <summary>One recipient each, the list headers, and text then HTML.</summary>
    private static void AssertWellFormed(ReceivedMessage received, string listId, int publicationId)
    {
        var message = received.Message;
        var to = Assert.Single(message.To.Mailboxes);
        Assert.Equal(received.RcptTo[0], to.Address);
        Assert.Empty(message.Cc);
        Assert.Empty(message.Bcc);
        Assert.Equal("newsletter@example.org", received.MailFrom);
        Assert.Equal("Tip of the Week: pick one thing that counts as enough", message.Subject);

        var unsubscribe = message.Headers["List-Unsubscribe"] ?? "";
        Assert.Matches($@"^<https://news\.example\.org/unsubscribe/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\?p={publicationId}>$", unsubscribe);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal(listId, message.Headers["List-Id"]);
        Assert.False(string.IsNullOrWhiteSpace(message.MessageId));
        Assert.NotNull(message.Headers[HeaderId.Date]);
        Assert.NotEqual(default, message.Date);

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        Assert.Equal("text/html", alternative[^1].ContentType.MimeType);
        var url = unsubscribe.Trim('<', '>');
        var text = ((TextPart)alternative[0]).Text;
        Assert.Contains(url, text, StringComparison.Ordinal);
        Assert.Contains(url, ((TextPart)alternative[^1]).Text, StringComparison.Ordinal);
    }

    /// <summary>The List-Unsubscribe link's path and query, as a one-click POST uses it.</summary>
    private static string LinkPathOf(MimeMessage message)
    {
        var header = message.Headers["List-Unsubscribe"] ?? "";
        var prefix = $"<{TestApp.PublicBaseUrl}";
        Assert.StartsWith(prefix + "/unsubscribe/", header, StringComparison.Ordinal);
        return header[prefix.Length..^1];
    }

    private static string UnsubscribePath(string token) => $"/unsubscribe/{token}";

    /// <summary>The token with the first character of its signature changed.</summary>
    internal static string Forged(string token)
    {
        var at = token.IndexOf('.', StringComparison.Ordinal) + 1;
        var flipped = token[at] == 'A' ? 'B' : 'A';
        return string.Concat(token.AsSpan(0, at), flipped.ToString(), token.AsSpan(at + 1));
    }

    internal static FormUrlEncodedContent OneClickUrlEncoded() => new([new("List-Unsubscribe", "One-Click")]);

    internal static MultipartFormDataContent OneClickMultipart() => new() { { new StringContent("One-Click"), "List-Unsubscribe" } };

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static async Task<Dictionary<string, int>> SubscriberIdsAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        return await db.Subscribers.ToDictionaryAsync(s => s.NormalizedEmail, s => s.Id);
    }

    private static async Task<SubscriptionStatus> TipStatusAsync(TestApp app, int subscriberId)
    {
        await using var db = app.OpenDb();
        return (await db.Subscriptions.SingleAsync(s => s.SubscriberId == subscriberId && s.Edition == "weekly-tip")).Status;
    }
}
