using MimeKit;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>Which of our messages a returned message is about, by the VERP address it was sent back to.</summary>
/// <param name="Token">The publication and subscriber, when a VERP address of ours with a valid MAC was found.</param>
/// <param name="Forged">True when an address had our local part and domain but a token that did not verify:
/// counted and otherwise ignored, so nobody can make a reader look like a bouncer.</param>
public sealed record BounceAddress(VerpToken? Token, bool Forged);

public static class BounceAddressing
{
    // Where mail servers and mailbox deliveries keep the envelope recipient, most reliable first.
    private static readonly string[] EnvelopeHeaders = ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"];

    public static BounceAddress Find(MimeMessage message, VerpAddresses verp)
    {
        var candidates = EnvelopeHeaders.SelectMany(h => message.Headers.Where(x => x.Field.Equals(h, StringComparison.OrdinalIgnoreCase)))
            .Select(h => h.Value.Trim())
            .Concat(message.To.Mailboxes.Select(m => m.Address));
        var envelope = Search(candidates, verp);
        // Only when the envelope names no address of ours: a feedback report arrives at the abuse address, and
        // only the returned original (or the report's Original-Mail-From) still carries our envelope sender.
        return envelope.Token is not null || envelope.Forged ? envelope : Search(OriginalSenders(message), verp);
    }

    private static BounceAddress Search(IEnumerable<string> candidates, VerpAddresses verp)
    {
        var forged = false;
        foreach (var address in candidates)
        {
            if (verp.TryParse(address, out var token))
            {
                return new BounceAddress(token, false);
            }
            forged |= verp.LooksLikeOurs(address);
        }
        return new BounceAddress(null, forged);
    }

    /// <summary>Return-Path and Sender of the returned originals (one level down, never deeper), then Original-Mail-From.</summary>
    private static IEnumerable<string> OriginalSenders(MimeMessage message)
    {
        foreach (var original in MessageParts.Originals(message).Take(4))
        {
            foreach (var header in original.Headers.Where(h => h.Id is HeaderId.ReturnPath or HeaderId.Sender))
            {
                yield return MailboxAddress.TryParse(header.Value, out var mailbox) ? mailbox.Address : header.Value.Trim();
            }
        }
        var feedback = MessageParts.Walk(message.Body, maxDepth: 2).OfType<MessageFeedbackReport>().FirstOrDefault();
        if (feedback?.Fields["Original-Mail-From"] is { } mailFrom)
        {
            yield return mailFrom.Trim();
        }
    }

    /// <summary>From the envelope sender a relay reports we used (SES's <c>mail.source</c>): its VERP token, or forged.</summary>
    public static BounceAddress FromEnvelopeSender(string? envelopeSender, VerpAddresses verp) =>
        string.IsNullOrWhiteSpace(envelopeSender) ? new BounceAddress(null, false)
        : verp.TryParse(envelopeSender, out var token) ? new BounceAddress(token, false)
        : new BounceAddress(null, verp.LooksLikeOurs(envelopeSender));
}
