using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Newsletter.Subscribers.Addresses;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// Logs are shipped and kept where erasure cannot reach: a send names readers by id, and the servers'
/// replies (which quote the recipient) are logged and stored with the address masked.
/// </summary>
public class AddressesInLogsTests
{
    private const int Readers = 6;

    // As Postfix words its refusals: the recipient's address first.
    private static readonly SmtpScript Refusals = SmtpScript.ForRecipients((rcpt, attempt) => rcpt switch
    {
        "reader2@example.org" => SmtpReplyDecision.Reply(550, "5.1.1", $"<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
        "reader4@example.org" when attempt == 1 => SmtpReplyDecision.Reply(450, "4.2.0", $"<{rcpt}>: Recipient address rejected: Greylisted, try again"),
        "reader5@example.org" => SmtpReplyDecision.Reply(552, "5.2.2", $"{rcpt} is over its quota").AtEndOfData(),
        _ => SmtpReplyDecision.Accept,
    });

    [Fact]
    public async Task No_reader_address_appears_in_any_log_line_of_a_full_send_at_information_level()
    {
        await using var world = await DeliveryWorld.StartAsync(Refusals, EveryCategoryAtInformation);
        await world.AddSubscribersAsync(Readers);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId);

        Assert.Equal((4, 2), (final.Sent, final.Failed));
        Assert.True(world.Logs.Contains(LogLevel.Warning, "subscriber 2 refused permanently: 550 5.1.1 <r***@example.org>"),
            "the refusal is logged, naming the reader by id and quoting the masked reply");
        var leaks = world.Logs.Lines.Where(l => Enumerable.Range(1, Readers)
            .Any(i => l.Message.Contains(DeliveryWorld.Email(i), StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(leaks.Count == 0, "log lines naming a reader:\n" + string.Join('\n', leaks.Select(l => $"{l.Category}: {l.Message}")));
    }

    [Fact]
    public async Task With_Logging_IncludeAddresses_on_the_log_names_the_refused_reader_by_address_too()
    {
        await using var world = await DeliveryWorld.StartAsync(Refusals, app =>
        {
            EveryCategoryAtInformation(app);
            app.Set("Logging:IncludeAddresses", "true");
        });
        await world.AddSubscribersAsync(Readers);
        var publicationId = await world.PublishAsync();

        await world.RunAsync(publicationId);

        Assert.True(world.Logs.Contains(LogLevel.Warning, "subscriber 2 <reader2@example.org> refused permanently"),
            string.Join('\n', world.Logs.Lines.Select(l => l.Message)));
        Assert.True(world.Logs.Contains(LogLevel.Warning, "subscriber 5 <reader5@example.org> refused permanently"));
    }

    [Fact]
    public async Task The_stored_replies_and_the_suppression_note_keep_the_server_words_with_the_address_masked()
    {
        await using var world = await DeliveryWorld.StartAsync(Refusals);
        await world.AddSubscribersAsync(Readers);
        var publicationId = await world.PublishAsync();

        await world.RunAsync(publicationId);

        var deliveries = await world.DeliveriesAsync(publicationId);
        // (The test server adds how many more commands it will take.)
        Assert.StartsWith("550 5.1.1 <r***@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
            deliveries.Single(d => d.SubscriberId == 2).LastResult);
        Assert.StartsWith("552 5.2.2 r***@example.org is over its quota", deliveries.Single(d => d.SubscriberId == 5).LastResult);
        Assert.All(deliveries, d => Assert.DoesNotContain("reader", d.LastResult ?? "", StringComparison.OrdinalIgnoreCase));
        await using var db = world.App.OpenDb();
        var hash = TestApp.AddressHash(DeliveryWorld.Email(2));
        var suppression = await db.Suppressions.SingleAsync(s => s.EmailHash == hash);
        Assert.StartsWith("hard bounce: 550 5.1.1 <r***@example.org>: Recipient address rejected: User unknown in virtual mailbox table", suppression.Note);
    }

    [Fact]
    public async Task A_publication_paused_for_errors_quotes_the_last_reply_masked_in_its_note()
    {
        await using var world = await DeliveryWorld.StartAsync(
            SmtpScript.ForRecipients((rcpt, _) => SmtpReplyDecision.Reply(550, "5.7.1", $"<{rcpt}>: Relay access denied")),
            app => app.Set("Delivery:ErrorBudget", "2").Set("Delivery:Connections", "1"));
        await world.AddSubscribersAsync(Readers);
        var publicationId = await world.PublishAsync();

        await world.RunAsync(publicationId);

        var publication = await world.PublicationAsync(publicationId);
        Assert.Equal(PublicationStatus.Paused, publication.Status);
        Assert.Contains("last error: 550 5.7.1 <r***@example.org>: Relay access denied", publication.Note, StringComparison.Ordinal);
        Assert.DoesNotContain("reader", publication.Note!, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("550 5.1.1 <Jane.Doe@Example.org>: no such user", "550 5.1.1 <J***@Example.org>: no such user")]
    [InlineData("mailbox x@mail.example.co.uk full; also tell bob+news@example.org", "mailbox x***@mail.example.co.uk full; also tell b***@example.org")]
    [InlineData("250 2.0.0 Ok: queued as 4F3A2B1C", "250 2.0.0 Ok: queued as 4F3A2B1C")]
    [InlineData("already masked: j***@example.org", "already masked: j***@example.org")]
    [InlineData("user@localhost is not a domain", "user@localhost is not a domain")]
    public void An_address_in_free_text_is_masked_down_to_its_first_letter_and_domain(string text, string masked) =>
        Assert.Equal(masked, AddressMask.Mask(text));

    /// <summary>The app's own categories are at Information already; the framework's (EF Core's commands,
    /// ASP.NET Core's requests) are raised to it too, so nothing a send logs at Information escapes the check.</summary>
    private static void EveryCategoryAtInformation(Newsletter.Tests.Infrastructure.TestApp app) => app
        .Set("Logging:LogLevel:Default", "Information")
        .Set("Logging:LogLevel:Microsoft.AspNetCore", "Information")
        .Set("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Information")
        .Set("Logging:LogLevel:Quartz", "Information");
}
