using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Cli;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Operations;

/// <summary>The delivery counters, read after a real send over SMTP, say what the database holds.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task After_a_send_the_message_counters_per_edition_equal_the_deliveries_in_the_database()
    {
        // One reader refused for good, one whose mailbox is busy once (a retry, then sent), the rest accepted.
        await using var smtp = await TestSmtpServer.StartAsync(SmtpScript.ForRecipients((rcpt, attempt) => rcpt switch
        {
            "gone@example.org" => SmtpReplyDecision.UserUnknown,
            "busy@example.org" when attempt == 1 => SmtpReplyDecision.MailboxBusy,
            _ => SmtpReplyDecision.Accept,
        }));
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port).Set("Delivery:RetryBaseDelay", "00:00:00.05").Set("Delivery:MaxRetryDelay", "00:00:00.2");
        foreach (var reader in new[] { "a@example.org", "b@example.org", "c@example.org", "gone@example.org", "busy@example.org" })
        {
            await app.RunCliOkAsync("subscribers", "add", reader, "--confirmed", "--editions", "weekly-tip");
        }
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath("weekly-tip"));

        // The send's host gets its own meter factory, so other tests' sends running meanwhile are not counted.
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = meters.GetRequiredService<IMeterFactory>();
        var counted = new ConcurrentDictionary<(string Edition, string Outcome), long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "newsletter.messages")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? edition = null, outcome = null;
            foreach (var tag in tags)
            {
                edition = tag.Key == "newsletter.edition" ? tag.Value as string : edition;
                outcome = tag.Key == "newsletter.outcome" ? tag.Value as string : outcome;
            }
            counted.AddOrUpdate((edition!, outcome!), value, (_, n) => n + value);
        });
        listener.Start();

        var output = new StringWriter();
        var exit = await NewsletterCli.RunAsync(["issues", "send-now", issue.ToString(CultureInfo.InvariantCulture)], b =>
        {
            app.ConfigureCli(b);
            b.Services.AddSingleton(factory);
        }, TextWriter.Synchronized(output), TextWriter.Synchronized(new StringWriter()));
        Assert.True(exit == 0, output.ToString());

        await using var db = app.OpenDb();
        var rows = await db.Deliveries.Where(d => db.Publications.Any(p => p.Id == d.PublicationId && p.IssueId == issue)).ToListAsync();
        var expected = new Dictionary<(string, string), long>
        {
            [("weekly-tip", "sent")] = rows.Count(d => d.Status == DeliveryStatus.Sent),
            [("weekly-tip", "failed")] = rows.Count(d => d.Status == DeliveryStatus.Failed),
            // Every attempt before the last was a retry.
            [("weekly-tip", "retried")] = rows.Sum(d => d.Attempts - 1),
        };
        Assert.Equal((4L, 1L, 1L), (expected[("weekly-tip", "sent")], expected[("weekly-tip", "failed")], expected[("weekly-tip", "retried")]));
        Assert.Equal(expected.OrderBy(e => e.Key), counted.OrderBy(e => e.Key));
    }
}
