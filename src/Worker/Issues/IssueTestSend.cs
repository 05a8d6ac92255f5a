using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Issues;

public sealed record TestSendResult(bool Sent, string Message);

/// <summary>One real message of an issue, for the editor's own eyes: built exactly as a reader's (every
/// header), with links that unsubscribe nobody. The queue, publications and subscribers are not touched.</summary>
public sealed class IssueTestSend(IssueQueue queue, MessageFactory factory, IMailTransport transport, IOptions<EditionsOptions> editions)
{
    /// <summary>The complete message of <paramref name="rendered"/> for <paramref name="recipient"/>.</summary>
    public MimeMessage Build(Issue issue, RenderedEmail rendered, Recipient recipient, string messageIdPrefix) =>
        factory.Build(editions.Value.Get(issue.Edition), rendered, recipient, queue.PreviewUnsubscribeUrl, $"{messageIdPrefix}.{Guid.NewGuid():N}");

    /// <summary>A single address (<c>editor@example.org</c>, no display name or list), or null.</summary>
    public static MailboxAddress? Mailbox(string value) =>
        MailboxAddress.TryParse(value.Trim(), out var mailbox) && MessageFactory.OneLine(mailbox.Address) == mailbox.Address
        && mailbox.Address.Contains('@', StringComparison.Ordinal)
            ? mailbox
            : null;

    /// <summary>Sends the issue to one address with the subject marked [TEST], through the configured transport.</summary>
    public async Task<TestSendResult> SendAsync(Issue issue, string address, string? name, CancellationToken cancellationToken = default)
    {
        address = address.Trim();
        if (Mailbox(address)?.Address != address)
        {
            return new TestSendResult(false, $"'{address}' is not a single email address (e.g. editor@example.org)");
        }
        var rendered = await queue.PreviewAsync(issue, name, cancellationToken);
        rendered = rendered with { Subject = "[TEST] " + rendered.Subject };
        var recipient = new Recipient(0, address, name);
        var message = Build(issue, rendered, recipient, "test");
        var envelopeFrom = factory.EnvelopeFrom(editions.Value.Get(issue.Edition), recipient);
        SendResult result;
        try
        {
            await using var connection = await transport.OpenAsync(cancellationToken);
            result = await connection.SendAsync(message, envelopeFrom, new MailboxAddress(name, address), cancellationToken);
        }
        catch (MailTransportException ex)
        {
            return new TestSendResult(false, $"Not sent: {ex.Message}");
        }
        return result.Status == SendStatus.Accepted
            ? new TestSendResult(true, $"Sent \"{message.Subject}\" to {address} ({result.Reply})")
            : new TestSendResult(false, $"Not sent: the server answered {result.Reply}");
    }
}
