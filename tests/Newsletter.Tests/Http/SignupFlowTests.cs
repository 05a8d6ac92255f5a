using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.Http;

/// <summary>Double opt-in through real HTTP, a real SQLite file and a real SMTP server.</summary>
public sealed class SignupFlowTests
{
    [Fact]
    public async Task A_form_sign_up_records_consent_and_sends_a_confirmation_whose_link_confirms_the_reader()
    {
        await using var world = await SignupWorld.StartAsync();
        world.Client.DefaultRequestHeaders.UserAgent.ParseAdd("TestBrowser/1.0");

        var response = await world.SignUpAsync("Sam.Reader@Example.org", "Sam", "weekly-tip", "monthly-spotlight");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await HttpAssert.BodyAsync(response));
        await using (var db = world.App.OpenDb())
        {
            var s = await db.Subscribers.Include(x => x.Subscriptions).Include(x => x.ConsentRecords).SingleAsync();
            Assert.Equal(("Sam.Reader@Example.org", "sam.reader@example.org", "Sam", SubscriberStatus.Pending), (s.Email, s.NormalizedEmail, s.Name, s.Status));
            Assert.Equal(["monthly-spotlight", "weekly-tip"], s.Subscriptions.Select(x => x.Edition).Order());
            Assert.All(s.Subscriptions, x => Assert.Equal(SubscriptionStatus.Pending, x.Status));
            var consent = Assert.Single(s.ConsentRecords);
            Assert.Equal(("web-form", "TestBrowser/1.0", "2026-11", SignupWorld.Start.UtcDateTime), (consent.Source, consent.UserAgent, consent.ConsentTextVersion, consent.ConsentedAt));
            Assert.Equal("weekly-tip,monthly-spotlight", consent.Editions);
            Assert.Null(consent.ConfirmedAt);
        }

        await world.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
        var mail = Assert.Single(world.Smtp.Messages);
        Assert.Equal(["sam.reader@example.org"], mail.RcptTo.Select(r => r.ToLowerInvariant()));
        Assert.Equal("Please confirm your subscription to Steady Ground", mail.Message.Subject);
        Assert.Equal("newsletter@example.org", mail.MailFrom);
        Assert.Null(mail.Message.Headers["List-Unsubscribe"]);
        Assert.Contains("Hi Sam,", mail.Message.TextBody);
        Assert.Contains("Tip of the Week and Monthly Spotlight", mail.Message.TextBody);
        Assert.Contains("Yes, subscribe me", mail.Message.HtmlBody);
        var link = SignupWorld.LinkPath(mail.Message, "/confirm/");

        // Following the link only shows a page: a link scanner opening it confirms nobody.
        var page = await world.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var pageHtml = await HttpAssert.BodyAsync(page);
        Assert.Contains("Confirm my subscription", pageHtml);
        Assert.Contains($"action=\"{link}\"", pageHtml);
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal(SubscriberStatus.Pending, (await db.Subscribers.SingleAsync()).Status);
        }

        var confirmed = await world.PostAsync(link);

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Contains("You're in", await HttpAssert.BodyAsync(confirmed));
        await using (var db = world.App.OpenDb())
        {
            var s = await db.Subscribers.Include(x => x.Subscriptions).Include(x => x.ConsentRecords).SingleAsync();
            Assert.Equal(SubscriberStatus.Confirmed, s.Status);
            Assert.Equal(SignupWorld.Start.UtcDateTime, s.ConfirmedAt);
            Assert.All(s.Subscriptions, x => Assert.Equal(SubscriptionStatus.Active, x.Status));
            Assert.Equal(SignupWorld.Start.UtcDateTime, Assert.Single(s.ConsentRecords).ConfirmedAt);
        }
    }

    [Fact]
    public async Task A_JSON_sign_up_is_accepted_with_202_and_its_emailed_link_confirms_the_reader()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.PostAsync("/subscribe",
            SignupWorld.Json("""{"email":"json@example.org","name":"Jo","editions":["weekly-fact"]}"""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var json = JsonDocument.Parse(await HttpAssert.BodyAsync(response));
        Assert.Equal("confirmation-sent", json.RootElement.GetProperty("status").GetString());
        await world.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
        var link = SignupWorld.LinkPath(world.Smtp.Messages[0].Message, "/confirm/");

        var confirmed = await world.PostAsync(link, SignupWorld.Json("{}"));

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        await using var db = world.App.OpenDb();
        var s = await db.Subscribers.Include(x => x.Subscriptions).Include(x => x.ConsentRecords).SingleAsync();
        Assert.Equal(SubscriberStatus.Confirmed, s.Status);
        Assert.Equal("json-api", Assert.Single(s.ConsentRecords).Source);
        Assert.Equal(("weekly-fact", SubscriptionStatus.Active), (Assert.Single(s.Subscriptions).Edition, s.Subscriptions[0].Status));
    }

    [Fact]
    public async Task Confirming_a_second_time_is_harmless_and_changes_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var link = await world.SignUpAndGetLinkAsync("twice@example.org");
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(link)).StatusCode);
        var before = await ListSnapshot.TakeAsync(world.App);
        world.Time.Advance(TimeSpan.FromMinutes(5));

        var again = await world.PostAsync(link);
        var page = await world.Client.GetAsync(link);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("already confirmed", await HttpAssert.BodyAsync(again));
        Assert.Contains("already confirmed", await HttpAssert.BodyAsync(page));
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task Signing_up_an_address_that_is_already_confirmed_gets_the_same_answer_as_a_new_address()
    {
        await using var world = await SignupWorld.StartAsync();
        await world.SubscribeConfirmedAsync("known@example.org", null, "weekly-tip");
        world.Time.Advance(TimeSpan.FromHours(2));
        const string body = """{"email":"{0}","editions":["weekly-tip"]}""";

        var known = await world.PostAsync("/subscribe", SignupWorld.Json(body.Replace("{0}", "known@example.org", StringComparison.Ordinal)));
        var fresh = await world.PostAsync("/subscribe", SignupWorld.Json(body.Replace("{0}", "fresh@example.org", StringComparison.Ordinal)));
        var knownForm = await world.SignUpAsync("known@example.org");
        var freshForm = await world.SignUpAsync("other@example.org");

        Assert.Equal((fresh.StatusCode, await HttpAssert.BodyAsync(fresh)), (known.StatusCode, await HttpAssert.BodyAsync(known)));
        Assert.Equal(freshForm.StatusCode, knownForm.StatusCode);
        Assert.Equal(
            (await HttpAssert.BodyAsync(freshForm)).Replace("other@example.org", "ADDRESS", StringComparison.Ordinal),
            (await HttpAssert.BodyAsync(knownForm)).Replace("known@example.org", "ADDRESS", StringComparison.Ordinal));
        // The known reader is told, in their own inbox, that nothing changed; their subscription is untouched.
        await world.MailIdleAsync();
        var notice = Assert.Single(world.Smtp.Messages, m => m.RcptTo.Contains("known@example.org") && (m.Message.Subject ?? "").Contains("already", StringComparison.Ordinal));
        SignupWorld.LinkPath(notice.Message, "/preferences/");
        await using var db = world.App.OpenDb();
        var s = await db.Subscribers.Include(x => x.Subscriptions).SingleAsync(x => x.NormalizedEmail == "known@example.org");
        Assert.Equal((SubscriberStatus.Confirmed, SubscriptionStatus.Active), (s.Status, Assert.Single(s.Subscriptions).Status));
    }

    [Fact]
    public async Task An_address_gets_at_most_one_email_an_hour_however_often_the_form_is_sent()
    {
        await using var world = await SignupWorld.StartAsync();

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await world.SignUpAsync("eager@example.org")).StatusCode);
            world.Time.Advance(TimeSpan.FromMinutes(10));
        }
        await world.MailIdleAsync();
        Assert.Single(world.Smtp.Messages);

        world.Time.Advance(TimeSpan.FromMinutes(21)); // 61 minutes after the first email
        await world.SignUpAsync("eager@example.org");
        await world.MailIdleAsync();

        Assert.Equal(2, world.Smtp.Messages.Count);
    }

    [Fact]
    public async Task An_expired_link_shows_a_page_that_sends_a_new_link_and_the_new_link_works()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("Subscribers:ConfirmationLinkLifetimeDays", "3"));
        var old = await world.SignUpAndGetLinkAsync("late@example.org");
        world.Time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1));
        var before = await ListSnapshot.TakeAsync(world.App);

        var page = await world.Client.GetAsync(old);
        var tooLate = await world.PostAsync(old);

        Assert.Equal(HttpStatusCode.Gone, page.StatusCode);
        var html = await HttpAssert.BodyAsync(page);
        Assert.Contains("This link has expired", html);
        Assert.Contains($"action=\"{old}/resend\"", html);
        Assert.Equal(HttpStatusCode.Gone, tooLate.StatusCode);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));

        var resent = await world.PostAsync(old + "/resend");
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Contains("A new link is on its way", await HttpAssert.BodyAsync(resent));
        await world.Smtp.WaitForMessagesAsync(2, TimeSpan.FromSeconds(30));
        var fresh = SignupWorld.LinkPath(world.Smtp.Messages[1].Message, "/confirm/");
        Assert.NotEqual(old, fresh);

        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(fresh)).StatusCode);
        await using var db = world.App.OpenDb();
        Assert.Equal(SubscriberStatus.Confirmed, (await db.Subscribers.SingleAsync()).Status);
    }

    [Fact]
    public async Task Asking_for_a_new_link_again_within_the_hour_sends_nothing_more()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("Subscribers:ConfirmationLinkLifetimeDays", "1"));
        var old = await world.SignUpAndGetLinkAsync("late@example.org");
        world.Time.Advance(TimeSpan.FromDays(2));

        await world.PostAsync(old + "/resend");
        await world.PostAsync(old + "/resend");
        await world.PostAsync(old + "/resend");
        await world.MailIdleAsync();

        Assert.Equal(2, world.Smtp.Messages.Count);
    }

    [Fact]
    public async Task A_suppressed_address_gets_the_ordinary_answer_and_nothing_is_recorded_or_sent()
    {
        await using var world = await SignupWorld.StartAsync();
        await world.App.RunCliOkAsync("subscribers", "suppress", "blocked@example.org", "--reason", "complaint");
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.SignUpAsync("Blocked@Example.org");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await HttpAssert.BodyAsync(response));
        await world.MailIdleAsync();
        Assert.Empty(world.Smtp.Messages);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_filled_in_honeypot_gets_the_ordinary_answer_and_nothing_is_recorded_or_sent()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.PostAsync("/subscribe",
            SignupWorld.Form(("email", "bot@example.org"), ("editions", "weekly-tip"), ("website", "http://spam.example")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await HttpAssert.BodyAsync(response));
        await world.MailIdleAsync();
        Assert.Empty(world.Smtp.Messages);
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }

    [Fact]
    public async Task A_permanent_refusal_gives_up_on_the_email_and_gives_the_address_its_email_back_so_asking_again_works_at_once()
    {
        await using var world = await SignupWorld.StartAsync();
        world.Smtp.Script = SmtpScript.ForRecipients((_, attempt) => attempt == 1 ? SmtpReplyDecision.UserUnknown : SmtpReplyDecision.Accept);

        await world.SignUpAsync("retry@example.org");
        await world.MailIdleAsync();
        Assert.Empty(world.Smtp.Messages);
        var failed = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Failed, 1), (failed.Status, failed.Attempts));
        Assert.StartsWith("550 5.1.1", failed.LastError);

        await world.SignUpAsync("retry@example.org");
        await world.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
        await world.MailIdleAsync();
        Assert.Single(world.Smtp.Messages);
        Assert.Equal(2, world.Smtp.RcptAttempts("retry@example.org"));
    }

    [Fact]
    public async Task A_temporary_refusal_is_retried_after_a_back_off_and_the_email_arrives_once()
    {
        await using var world = await SignupWorld.StartAsync();
        world.Smtp.Script = SmtpScript.ForRecipients((_, attempt) => attempt == 1 ? SmtpReplyDecision.MailboxBusy : SmtpReplyDecision.Accept);

        await world.SignUpAsync("busy@example.org");
        await world.MailIdleAsync();

        Assert.Empty(world.Smtp.Messages);
        var waiting = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Pending, 1), (waiting.Status, waiting.Attempts));
        Assert.Equal(world.Time.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1), waiting.NextAttemptAt);
        Assert.StartsWith("450 4.2.0", waiting.LastError);
        // Asking again meanwhile sends nothing more: the address's email is still on its way.
        await world.SignUpAsync("busy@example.org");
        Assert.Single(await world.OutboxAsync());

        world.Time.Advance(TimeSpan.FromMinutes(1));
        await world.MailIdleAsync();

        var mail = Assert.Single(world.Smtp.Messages);
        SignupWorld.LinkPath(mail.Message, "/confirm/");
        var sent = Assert.Single(await world.OutboxAsync());
        Assert.Equal((OutgoingEmailStatus.Sent, 2), (sent.Status, sent.Attempts));
    }

    [Fact]
    public async Task Re_subscribing_after_unsubscribing_waits_for_a_fresh_confirmation()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("back@example.org", null, "weekly-tip");
        var left = await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}", SignupWorld.Form(("List-Unsubscribe", "One-Click")));
        Assert.Equal(HttpStatusCode.OK, left.StatusCode);
        world.Time.Advance(TimeSpan.FromHours(2));

        await world.SignUpAsync("back@example.org", null, "weekly-tip");

        await using (var db = world.App.OpenDb())
        {
            Assert.Equal(SubscriptionStatus.Pending, (await db.Subscriptions.SingleAsync()).Status);
        }
        // The first confirmation, the welcome, then the fresh confirmation.
        await world.Smtp.WaitForMessagesAsync(3, TimeSpan.FromSeconds(30));
        var link = SignupWorld.LinkPath(world.Smtp.Messages[2].Message, "/confirm/");
        Assert.Equal(HttpStatusCode.OK, (await world.PostAsync(link)).StatusCode);
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal(SubscriptionStatus.Active, (await db.Subscriptions.SingleAsync()).Status);
        }
    }

    [Fact]
    public async Task With_a_limit_of_two_the_third_sign_up_from_one_address_is_refused_with_429_and_changes_nothing()
    {
        await using var world = await SignupWorld.StartAsync(app => app.Set("Subscribers:RateLimit:SubscribePermitLimit", "2"));
        await world.SignUpAsync("one@example.org");
        await world.SignUpAsync("two@example.org");
        var before = await ListSnapshot.TakeAsync(world.App);

        var page = await world.SignUpAsync("three@example.org");
        var json = await world.PostAsync("/subscribe", SignupWorld.Json("""{"email":"four@example.org","editions":["weekly-tip"]}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
        HttpAssert.IsHtml(page);
        Assert.Contains("Please slow down", await HttpAssert.BodyAsync(page));
        Assert.True(page.Headers.RetryAfter is not null);
        Assert.Equal(HttpStatusCode.TooManyRequests, json.StatusCode);
        HttpAssert.IsProblem(json);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task The_hosted_sign_up_page_has_a_labelled_field_for_everything_and_no_third_party_assets()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.Client.GetAsync("/subscribe");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await HttpAssert.BodyAsync(response);
        foreach (var id in new[] { "email", "name", "edition-weekly-fact", "edition-weekly-tip", "edition-monthly-spotlight", "website" })
        {
            Assert.Contains($"for=\"{id}\"", html);
            Assert.Contains($"id=\"{id}\"", html);
        }
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);
        Assert.Contains("name=\"consent_version\" value=\"2026-11\"", html);
    }
}
