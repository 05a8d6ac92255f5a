using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.SignupEmails;

/// <summary>The public side's log lines name readers by id: signing up, confirming, a refused
/// confirmation and unsubscribing, through the real web app and a real SMTP server.</summary>
public sealed class SignupLogsTests
{
    [Fact]
    public async Task Subscribing_confirming_a_refused_confirmation_and_unsubscribing_log_no_address_at_information_level()
    {
        var logs = new LogCapture();
        await using var world = await SignupWorld.StartAsync(
            app => app.Set("Logging:LogLevel:Default", "Information")
                .Set("Logging:LogLevel:Microsoft.AspNetCore", "Information")
                .Set("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Information"),
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        world.Smtp.Script = SmtpScript.ForRecipients((rcpt, _) => rcpt.Equals("gone.reader@example.org", StringComparison.OrdinalIgnoreCase)
            ? SmtpReplyDecision.Reply(550, "5.1.1", $"<{rcpt}>: Recipient address rejected: User unknown")
            : SmtpReplyDecision.Accept);

        var id = await world.SubscribeConfirmedAsync("Sam.Reader@Example.org", "Sam", "weekly-tip");
        using (var left = await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}",
                   new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            Assert.Equal(HttpStatusCode.OK, left.StatusCode);
        }
        using (var refused = await world.SignUpAsync("gone.reader@example.org"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        }
        await world.MailIdleAsync();

        // The capture works: the emails and the refusal are there, by id, the reply masked.
        Assert.True(logs.Contains(LogLevel.Information, $"sent to subscriber {id} "), Dump(logs));
        Assert.True(logs.Contains(LogLevel.Warning, "was refused permanently and given up on; the address may ask again at once: 550 5.1.1 <g***@example.org>"), Dump(logs));
        var leaks = logs.Lines.Where(l => l.Message.Contains("sam.reader@", StringComparison.OrdinalIgnoreCase)
            || l.Message.Contains("gone.reader@", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(leaks.Count == 0, "log lines naming a reader:\n" + string.Join('\n', leaks.Select(l => $"{l.Category}: {l.Message}")));
    }

    private static string Dump(LogCapture logs) => string.Join('\n', logs.Lines.Select(l => $"{l.Level} {l.Category}: {l.Message}"));
}
