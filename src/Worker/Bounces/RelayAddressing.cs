using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>Which of our messages a relay's notification is about, by the envelope sender it reports we used.</summary>
public static class RelayAddressing
{
    /// <summary>The VERP token of <paramref name="envelopeSender"/>; forged when it has our shape but does not verify.</summary>
    public static BounceAddress FromEnvelopeSender(string? envelopeSender, VerpAddresses verp)
    {
        if (string.IsNullOrWhiteSpace(envelopeSender))
        {
            return new BounceAddress(null, false);
        }
        if (verp.TryParse(envelopeSender, out var token))
        {
            return new BounceAddress(token, false);
        }
        return new BounceAddress(null, LooksLikeOurs(envelopeSender, verp));
    }

    /// <summary>Our VERP shape (local part + token at our domain), as the mailbox reader recognises it.</summary>
    private static bool LooksLikeOurs(string address, VerpAddresses verp)
    {
        var probe = verp.For(0, 0)?.Address;
        if (probe is null)
        {
            return false;
        }
        var plus = probe.IndexOf('+', StringComparison.Ordinal);
        var at = probe.LastIndexOf('@');
        var trimmed = address.Trim().Trim('<', '>');
        return trimmed.StartsWith(probe[..(plus + 1)], StringComparison.OrdinalIgnoreCase)
            && trimmed.EndsWith(probe[at..], StringComparison.OrdinalIgnoreCase);
    }
}
