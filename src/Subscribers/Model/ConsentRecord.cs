namespace Newsletter.Subscribers.Model;

/// <summary>
/// Evidence that a person asked for the newsletter: when, how (the source), from where (IP address
/// and user agent, for web sign-ups), which editions, and which version of the consent text they
/// were shown. Confirming by email stamps <see cref="ConfirmedAt"/>. Personal data: erased with the
/// subscriber.
/// </summary>
public sealed class ConsentRecord
{
    public long Id { get; set; }

    public int SubscriberId { get; set; }

    /// <summary>When consent was given (UTC): the sign-up request, or an import's <c>consented_at</c>.</summary>
    public DateTime ConsentedAt { get; set; }

    /// <summary>How consent was given, e.g. <c>web-form</c>, <c>json-api</c>, <c>preferences</c>, <c>import: shop checkout</c>.</summary>
    public required string Source { get; set; }

    public string? IpAddress { get; set; }

    public string? UserAgent { get; set; }

    /// <summary>The version of the consent text shown (<c>Subscribers:ConsentTextVersion</c>).</summary>
    public string? ConsentTextVersion { get; set; }

    /// <summary>The edition keys asked for, comma-separated.</summary>
    public required string Editions { get; set; }

    /// <summary>When the double opt-in was completed for this request; null while waiting (or for imports).</summary>
    public DateTime? ConfirmedAt { get; set; }

    public Subscriber? Subscriber { get; set; }
}
