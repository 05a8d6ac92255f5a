using Newsletter.Tests.Infrastructure.Databases;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>What the engine does with each kind of SMTP reply, against a real server over loopback.</summary>
public class SmtpReplyTests
{
    [DatabaseFact]
    public async Task Recipients_refused_with_4xx_at_first_are_retried_and_every_recipient_gets_exactly_one_message()
    {
        var busy = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { DeliveryWorld.Email(2), DeliveryWorld.Email(5), DeliveryWorld.Email(9) };
        await using var world = await DeliveryWorld.StartAsync(SmtpScript.ForRecipients((rcpt, attempt) =>
            busy.Contains(rcpt) && attempt <= 2 ? SmtpReplyDecision.MailboxBusy : SmtpReplyDecision.Accept));
        await world.AddSubscribersAsync(12);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal(12, final.Sent);
        Assert.All(Enumerable.Range(1, 12), i => Assert.Equal(1, world.ReceivedCounts()[DeliveryWorld.Email(i)]));
        var deliveries = await world.DeliveriesAsync(publicationId);
        Assert.All(deliveries, d => Assert.Equal(DeliveryStatus.Sent, d.Status));
        Assert.All(deliveries.Where(d => busy.Contains(DeliveryWorld.Email(d.SubscriberId))), d => Assert.Equal(3, d.Attempts));
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
        Assert.All(deliveries, d => Assert.Equal(250, d.ReplyCode));
        Assert.All(deliveries, d => Assert.NotNull(d.CompletedAt));
    }

    [DatabaseFact]
    public async Task A_5_1_1_reply_fails_the_delivery_suppresses_the_address_and_it_is_never_tried_again()
    {
        var gone = DeliveryWorld.Email(3);
        await using var world = await DeliveryWorld.StartAsync(SmtpScript.ForRecipients((rcpt, _) =>
            rcpt.Equals(gone, StringComparison.OrdinalIgnoreCase) ? SmtpReplyDecision.UserUnknown : SmtpReplyDecision.Accept));
        await world.AddSubscribersAsync(6);
        var first = await world.PublishAsync();

        var final = await world.RunAsync(first);

        Assert.Equal((5, 1), (final.Sent, final.Failed));
        var failed = Assert.Single(await world.DeliveriesAsync(first), d => d.Status == DeliveryStatus.Failed);
        Assert.Equal(3, failed.SubscriberId);
        Assert.Equal(550, failed.ReplyCode);
        Assert.Contains("5.1.1", failed.LastResult);
        Assert.True(await world.IsSuppressedAsync(gone));
        Assert.Equal(1, world.Smtp.RcptAttempts(gone));
        // Nobody else paid for it: no retry, no error beyond the refusal itself.
        Assert.All((await world.DeliveriesAsync(first)).Where(d => d.SubscriberId != 3), d => Assert.Equal(1, d.Attempts));
        Assert.Equal(1, (await world.PublicationAsync(first)).ErrorCount);

        // The next issue's snapshot leaves the suppressed address out altogether.
        var second = await world.PublishAsync("Tip of the Week: rest is productive");
        await world.RunAsync(second);
        Assert.Equal(5, (await world.DeliveriesAsync(second)).Count);
        Assert.Equal(1, world.Smtp.RcptAttempts(gone));
    }

    [DatabaseFact]
    public async Task A_stored_address_that_is_not_one_mailbox_fails_that_delivery_only_and_the_send_goes_on()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(5);
        // As if edited by hand or imported before validation: a list where one address belongs.
        await using (var db = world.App.OpenDb())
        {
            await db.Subscribers.Where(s => s.Id == 3)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Email, "reader3@example.org, someone-else@example.org"));
        }
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal((4, 1), (final.Sent, final.Failed));
        var failed = Assert.Single(await world.DeliveriesAsync(publicationId), d => d.Status == DeliveryStatus.Failed);
        Assert.Equal(3, failed.SubscriberId);
        Assert.StartsWith("not sent:", failed.LastResult, StringComparison.Ordinal);
        Assert.DoesNotContain(world.Smtp.Messages.SelectMany(m => m.RcptTo), r => r.Contains("someone-else", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(4, world.Smtp.Messages.Count);
        Assert.Equal(PublicationStatus.Completed, (await world.PublicationAsync(publicationId)).Status);
    }

    [DatabaseFact]
    public async Task Throttling_replies_4_7_x_and_421_are_retried_and_never_suppress_the_recipient()
    {
        var throttled = DeliveryWorld.Email(2);
        var closed = DeliveryWorld.Email(4);
        await using var world = await DeliveryWorld.StartAsync(SmtpScript.ForRecipients((rcpt, attempt) =>
            rcpt.Equals(throttled, StringComparison.OrdinalIgnoreCase) && attempt <= 2 ? SmtpReplyDecision.Throttled
            : rcpt.Equals(closed, StringComparison.OrdinalIgnoreCase) && attempt == 1 ? SmtpReplyDecision.ServiceNotAvailable
            : SmtpReplyDecision.Accept));
        await world.AddSubscribersAsync(8);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal(8, final.Sent);
        Assert.Equal(1, world.ReceivedCounts()[throttled]);
        Assert.Equal(1, world.ReceivedCounts()[closed]);
        Assert.False(await world.IsSuppressedAsync(throttled));
        Assert.False(await world.IsSuppressedAsync(closed));
        var deliveries = await world.DeliveriesAsync(publicationId);
        // Throttling is the sender's problem: it does not use up the recipient's attempts.
        Assert.All(deliveries, d => Assert.Equal(1, d.Attempts));
        Assert.True(world.Logs.Contains(LogLevel.Warning, "slow down"), "the operator is told the server asked to slow down");
    }

    [DatabaseFact]
    public async Task A_permanent_refusal_other_than_5_1_x_fails_this_issue_and_suppresses_only_after_the_configured_count()
    {
        var full = DeliveryWorld.Email(1);
        await using var world = await DeliveryWorld.StartAsync(
            SmtpScript.ForRecipients((rcpt, _) => rcpt.Equals(full, StringComparison.OrdinalIgnoreCase)
                ? SmtpReplyDecision.Reply(552, "5.2.2", "Mailbox full")
                : SmtpReplyDecision.Accept),
            app => app.Set("Delivery:SuppressAfterPermanentFailures", "2"));
        await world.AddSubscribersAsync(3);

        var first = await world.PublishAsync("Tip one");
        await world.RunAsync(first);
        Assert.Equal(DeliveryStatus.Failed, (await world.DeliveriesAsync(first)).Single(d => d.SubscriberId == 1).Status);
        Assert.False(await world.IsSuppressedAsync(full));
        Assert.Equal(1, world.Smtp.RcptAttempts(full));

        var second = await world.PublishAsync("Tip two");
        await world.RunAsync(second);
        Assert.Equal(DeliveryStatus.Failed, (await world.DeliveriesAsync(second)).Single(d => d.SubscriberId == 1).Status);
        Assert.True(await world.IsSuppressedAsync(full));
        Assert.Equal(2, world.Smtp.RcptAttempts(full));
    }

    [DatabaseFact]
    public async Task A_recipient_that_keeps_answering_4xx_fails_after_the_configured_number_of_attempts()
    {
        var busy = DeliveryWorld.Email(2);
        await using var world = await DeliveryWorld.StartAsync(
            SmtpScript.ForRecipients((rcpt, _) => rcpt.Equals(busy, StringComparison.OrdinalIgnoreCase)
                ? SmtpReplyDecision.MailboxBusy
                : SmtpReplyDecision.Accept),
            app => app.Set("Delivery:MaxAttempts", "3"));
        await world.AddSubscribersAsync(3);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal((2, 1), (final.Sent, final.Failed));
        var failed = (await world.DeliveriesAsync(publicationId)).Single(d => d.SubscriberId == 2);
        Assert.Equal(DeliveryStatus.Failed, failed.Status);
        Assert.StartsWith("gave up after 3 attempt(s)", failed.LastResult);
        Assert.Equal(3, world.Smtp.RcptAttempts(busy));
        Assert.False(await world.IsSuppressedAsync(busy));
    }

    [DatabaseFact]
    public async Task A_recipient_that_keeps_answering_4xx_fails_once_its_retries_are_older_than_the_configured_age()
    {
        var busy = DeliveryWorld.Email(1);
        await using var world = await DeliveryWorld.StartAsync(
            SmtpScript.ForRecipients((rcpt, _) => rcpt.Equals(busy, StringComparison.OrdinalIgnoreCase)
                ? SmtpReplyDecision.MailboxBusy
                : SmtpReplyDecision.Accept),
            app => app.Set("Delivery:MaxAttempts", "100").Set("Delivery:MaxRetryAge", "00:00:00.300"));
        await world.AddSubscribersAsync(2);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal((1, 1), (final.Sent, final.Failed));
        var failed = (await world.DeliveriesAsync(publicationId)).Single(d => d.SubscriberId == 1);
        Assert.StartsWith("gave up after", failed.LastResult);
        Assert.InRange(world.Smtp.RcptAttempts(busy), 2, 99);
    }
}
