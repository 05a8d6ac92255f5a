using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.SignupEmails;

/// <summary>
/// Sign-up emails go through a durable outbox written with the sign-up itself: a mail server that
/// is down, a process that stops before sending, or one that dies mid-send loses no email, and no
/// email goes out twice. Real SQLite files, a real SMTP server on loopback.
/// </summary>
public sealed class SignupEmailOutboxTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A host built as the command line builds it: it stores sign-ups but runs no email sender.</summary>
    private static async Task<(TestApp App, FakeTimeProvider Time, TestHost Host)> StartHostWithoutSenderAsync()
    {
        var app = TestApp.Create();
        var time = new FakeTimeProvider(SignupWorld.Start);
        var host = await app.StartHostAsync(services => services.AddSingleton<TimeProvider>(time));
        return (app, time, host);
    }

    private static Task<SignupResult> SignUpAsync(TestHost host, string email, params string[] editions) =>
        host.InScopeAsync<SubscriptionService, SignupResult>(s =>
            s.SubscribeAsync(new SignupRequest(email, null, editions.Length == 0 ? ["weekly-tip"] : editions, "web-form")));

    [Fact]
    public async Task A_sign_up_is_stored_with_its_email_in_the_outbox_in_one_go()
    {
        var (app, _, host) = await StartHostWithoutSenderAsync();
        await using var _app = app;
        await using var _host = host;

        var result = await SignUpAsync(host, "new@example.org", "weekly-tip", "weekly-fact");

        await using var db = app.OpenDb();
        var subscriber = await db.Subscribers.SingleAsync();
        var row = await db.Set<OutgoingEmail>().SingleAsync();
        Assert.Equal(result.Email!.OutboxId, row.Id);
        Assert.Equal((subscriber.Id, LifecycleEmailKind.ConfirmSubscription, OutgoingEmailStatus.Pending, "weekly-tip,weekly-fact", 0),
            (row.SubscriberId, row.Kind, row.Status, row.Editions, row.Attempts));
        Assert.Equal(subscriber.LastEmailedAt, row.IssuedAt);
        Assert.Equal(SignupWorld.Start.UtcDateTime, row.NextAttemptAt);
    }

    [Fact]
    public async Task An_address_refused_as_unknown_costs_the_next_email_in_the_same_pass_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        world.Smtp.Script = SmtpScript.ForRecipients((rcpt, _) =>
            rcpt.StartsWith("gone@", StringComparison.OrdinalIgnoreCase) ? SmtpReplyDecision.UserUnknown : SmtpReplyDecision.Accept);
        // Both emails wait for the server, then go out in one pass, over one connection if it lasts.
        await world.Smtp.StopAsync();
        await world.SignUpAsync("gone@example.org");
        await world.SignUpAsync("here@example.org");
        await world.MailIdleAsync();
        var before = await world.OutboxAsync();
        await world.Smtp.RestartAsync();
        world.Time.Advance(LifecycleOutbox.Backoff(1));
        await world.MailIdleAsync();

        var outbox = await world.OutboxAsync();
        Assert.Equal(2, outbox.Count);
        Assert.Equal((OutgoingEmailStatus.Failed, before[0].Attempts + 1), (outbox[0].Status, outbox[0].Attempts));
        Assert.Contains("5.1.1", outbox[0].LastError);
        // The refusal did not cost the next email an attempt (the transport gave that connection up;
        // the mailer opened another instead of trying the next email on it).
        Assert.Equal((OutgoingEmailStatus.Sent, before[1].Attempts + 1), (outbox[1].Status, outbox[1].Attempts));
        Assert.Equal(["here@example.org"], Assert.Single(world.Smtp.Messages).RcptTo);
    }

    [Fact]
    public async Task A_sign_up_made_while_the_mail_server_is_down_gets_its_confirmation_once_the_server_is_back_exactly_once()
    {
        await using var world = await SignupWorld.StartAsync();
        await world.Smtp.StopAsync();

        var response = await world.SignUpAsync("patient@example.org", "Pat");
        await world.MailIdleAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var waiting = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Pending, 1), (waiting.Status, waiting.Attempts));
        Assert.Contains("cannot open an SMTP session", waiting.LastError);
        Assert.Empty(world.Smtp.Messages);

        await world.Smtp.RestartAsync();
        world.Time.Advance(LifecycleOutbox.Backoff(1));
        await world.MailIdleAsync();

        var mail = Assert.Single(world.Smtp.Messages);
        Assert.Equal(["patient@example.org"], mail.RcptTo);
        var sent = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Sent, 2), (sent.Status, sent.Attempts));
        // The link in the late email works: it was signed with the sign-up's time, a minute ago.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.PostAsync(SignupWorld.LinkPath(mail.Message, "/confirm/"))).StatusCode);
        await using var db = world.App.OpenDb();
        Assert.Equal(SubscriberStatus.Confirmed, (await db.Subscribers.SingleAsync()).Status);
    }

    [Fact]
    public async Task A_sign_up_stored_by_a_process_that_stopped_before_sending_is_sent_by_the_next_process_on_the_same_file()
    {
        var (app, time, host) = await StartHostWithoutSenderAsync();
        await SignUpAsync(host, "owed@example.org");
        await host.DisposeAsync(); // gone before any sender saw the email

        await using var world = await SignupWorld.StartAsync(app: app, time: time);
        await world.Smtp.WaitForMessagesAsync(1, Patience);
        await world.MailIdleAsync();

        var mail = Assert.Single(world.Smtp.Messages);
        Assert.Equal(["owed@example.org"], mail.RcptTo);
        Assert.Equal(OutgoingEmailStatus.Sent, Assert.Single(await world.OutboxAsync()).Status);
    }

    [Fact]
    public async Task An_email_claimed_by_a_process_that_died_is_sent_by_another_once_the_claim_expires_and_not_before()
    {
        var (app, time, host) = await StartHostWithoutSenderAsync();
        await SignUpAsync(host, "orphan@example.org");
        // The dying process got as far as claiming the email, and no further.
        var claim = await host.InScopeAsync<LifecycleOutbox, ClaimedEmail?>(o => o.ClaimNextAsync("dead-process", TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.NotNull(claim);
        await host.DisposeAsync();

        await using var world = await SignupWorld.StartAsync(app: app, time: time);
        await using (var scope = world.Web.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<LifecycleOutbox>();
            Assert.Equal(OutboxActivity.InFlight, await outbox.ActivityAsync(CancellationToken.None));
            Assert.Null(await outbox.ClaimNextAsync("test", TimeSpan.FromMinutes(5), CancellationToken.None));
        }

        world.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await world.MailIdleAsync();

        Assert.Equal(["orphan@example.org"], Assert.Single(world.Smtp.Messages).RcptTo);
        var row = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Sent, (string?)null), (row.Status, row.LeaseOwner));
        // The dead process's claim is void: it can record nothing over the real outcome.
        await using (var scope = world.Web.Services.CreateAsyncScope())
        {
            Assert.False(await scope.ServiceProvider.GetRequiredService<LifecycleOutbox>().MarkSentAsync(claim, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Temporary_refusals_are_retried_with_a_growing_back_off_and_past_the_last_attempt_the_address_gets_its_slot_back()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("Subscribers:EmailMaxAttempts", "3"));
        world.Smtp.Script = SmtpScript.ForRecipients((_, _) => SmtpReplyDecision.MailboxBusy);

        await world.SignUpAsync("full@example.org");
        await world.MailIdleAsync();
        Assert.Equal(1, (await world.OutboxAsync())[0].Attempts);
        world.Time.Advance(TimeSpan.FromMinutes(1));
        await world.MailIdleAsync();
        var second = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Pending, 2), (second.Status, second.Attempts));
        Assert.Equal(world.Time.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(5), second.NextAttemptAt);
        world.Time.Advance(TimeSpan.FromMinutes(5));
        await world.MailIdleAsync();

        var failed = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Failed, 3), (failed.Status, failed.Attempts));
        Assert.Contains("Gave up after 3 attempt(s): 450 4.2.0", failed.LastError);
        Assert.Equal(3, world.Smtp.RcptAttempts("full@example.org"));
        Assert.Empty(world.Smtp.Messages);

        // Six minutes after the first email, within the hour: the slot was given back, so asking again works.
        world.Smtp.Script = SmtpScript.AcceptAll;
        await world.SignUpAsync("full@example.org");
        await world.Smtp.WaitForMessagesAsync(1, Patience);
    }

    [Fact]
    public async Task A_newer_email_replaces_an_older_one_still_waiting_so_the_reader_gets_one()
    {
        var (app, time, host) = await StartHostWithoutSenderAsync();
        await SignUpAsync(host, "twice@example.org", "weekly-tip");
        time.Advance(TimeSpan.FromHours(2));
        await SignUpAsync(host, "twice@example.org", "weekly-fact");
        await host.DisposeAsync();

        await using var world = await SignupWorld.StartAsync(app: app, time: time);
        await world.Smtp.WaitForMessagesAsync(1, Patience);
        await world.MailIdleAsync();

        var mail = Assert.Single(world.Smtp.Messages);
        Assert.Contains("Fact of the Week", mail.Message.TextBody);
        Assert.Equal([OutgoingEmailStatus.Cancelled, OutgoingEmailStatus.Sent], (await world.OutboxAsync()).Select(e => e.Status));
    }

    [Fact]
    public async Task An_email_to_an_address_suppressed_before_it_was_sent_is_not_sent()
    {
        var (app, time, host) = await StartHostWithoutSenderAsync();
        await SignUpAsync(host, "blocked.later@example.org");
        await host.DisposeAsync();
        await app.RunCliOkAsync("subscribers", "suppress", "blocked.later@example.org", "--reason", "complaint");

        await using var world = await SignupWorld.StartAsync(app: app, time: time);
        await world.MailIdleAsync();

        Assert.Empty(world.Smtp.Messages);
        var row = Assert.Single(await world.OutboxAsync());
        Assert.Equal(OutgoingEmailStatus.Cancelled, row.Status);
        Assert.Contains("suppression list", row.LastError);
    }

    [Fact]
    public async Task Two_processes_on_one_file_send_every_sign_up_email_exactly_once()
    {
        const int readers = 40;
        await using var world = await SignupWorld.StartAsync(app => app.Set("Subscribers:EmailPollInterval", "00:00:00.020"));
        await using var other = world.StartAnotherProcess();
        using var otherClient = other.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });

        await Task.WhenAll(Enumerable.Range(0, readers).Select(i => i % 2 == 0
            ? world.SignUpAsync($"reader{i}@example.org")
            : otherClient.PostAsync("/subscribe", SignupWorld.Form(("email", $"reader{i}@example.org"), ("editions", "weekly-tip")))));
        await world.Smtp.WaitForMessagesAsync(readers, Patience);
        await world.MailIdleAsync();
        await other.Services.GetRequiredService<Newsletter.Worker.SignupEmails.LifecycleMailer>().WhenIdleAsync().WaitAsync(Patience);

        Assert.Equal(readers, world.Smtp.Messages.Count);
        Assert.Equal(Enumerable.Range(0, readers).Select(i => $"reader{i}@example.org").Order(),
            world.Smtp.Messages.Select(m => Assert.Single(m.RcptTo)).Order());
        Assert.All(await world.OutboxAsync(), e => Assert.Equal((OutgoingEmailStatus.Sent, 1), (e.Status, e.Attempts)));
    }

    [Fact]
    public async Task Erasing_a_person_deletes_their_sign_up_emails_sent_or_still_owed_and_nothing_more_is_sent()
    {
        await using var world = await SignupWorld.StartAsync();
        await world.SubscribeConfirmedAsync("erase.me@example.org", "Eve", "weekly-tip");
        await world.SignUpAsync("stays@example.org");
        // Eve's confirmation and welcome, and the other reader's confirmation.
        await world.Smtp.WaitForMessagesAsync(3, Patience);
        await world.MailIdleAsync();
        world.Time.Advance(TimeSpan.FromHours(2));
        await world.Smtp.StopAsync();
        await world.SignUpAsync("erase.me@example.org", null, "weekly-fact");
        await world.MailIdleAsync();
        Assert.Equal(4, (await world.OutboxAsync()).Count);

        await world.App.RunCliOkAsync("subscribers", "erase", "erase.me@example.org");

        var left = Assert.Single(await world.OutboxAsync());
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal("stays@example.org", (await db.Subscribers.SingleAsync(s => s.Id == left.SubscriberId)).NormalizedEmail);
        }
        await world.Smtp.RestartAsync();
        world.Time.Advance(TimeSpan.FromHours(1));
        await world.MailIdleAsync();
        Assert.Equal(3, world.Smtp.Messages.Count);
    }
}
