using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Admin.Readers;

/// <summary>The outcome of an editor's change to a reader: made, or why not.</summary>
public sealed record ReaderChange(bool Changed, string? Error);

/// <summary>
/// An editor subscribes a reader to an edition or ends one, on the reader's behalf. A new edition
/// starts at once, as <c>newsletter subscribers add</c> does (a reader who has not confirmed still
/// receives nothing); an edition the reader left comes back only through the reader's own
/// confirmation, which no editor can give for them.
/// </summary>
public sealed class ReaderEditions(NewsletterDbContext db, IKnownEditions editions, TimeProvider time)
{
    public async Task<ReaderChange> SubscribeAsync(int readerId, string? edition, CancellationToken cancellationToken = default)
    {
        if (Unknown(edition) is { } unknown)
        {
            return new(false, unknown);
        }
        if (!await db.Subscribers.AnyAsync(s => s.Id == readerId, cancellationToken))
        {
            return new(false, "there is no such reader");
        }
        var existing = await db.Subscriptions.FirstOrDefaultAsync(s => s.SubscriberId == readerId && s.Edition == edition, cancellationToken);
        switch (existing?.Status)
        {
            case SubscriptionStatus.Active:
                return new(false, $"they already have {edition}");
            case SubscriptionStatus.Pending:
                return new(false, $"{edition} is waiting for their own confirmation by email");
            case SubscriptionStatus.Unsubscribed:
                return new(false, $"they left {edition} on {existing.UnsubscribedAt?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "an earlier date"}; " +
                    "coming back takes their own confirmation (the preferences link in any email, or the sign-up page)");
        }
        db.Subscriptions.Add(new Subscription
        {
            SubscriberId = readerId,
            Edition = edition!,
            Status = SubscriptionStatus.Active,
            SubscribedAt = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return new(true, null);
    }

    /// <summary>Ends the edition, whether it was received or still waiting for confirmation (as the preferences page does).</summary>
    public async Task<ReaderChange> UnsubscribeAsync(int readerId, string? edition, CancellationToken cancellationToken = default)
    {
        if (Unknown(edition) is { } unknown)
        {
            return new(false, unknown);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var changed = await db.Subscriptions
            .Where(s => s.SubscriberId == readerId && s.Edition == edition && s.Status != SubscriptionStatus.Unsubscribed)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed)
                .SetProperty(s => s.UnsubscribedAt, now), cancellationToken);
        return changed > 0 ? new(true, null) : new(false, $"they do not have {edition}");
    }

    private string? Unknown(string? edition) => edition is not null && editions.Keys.Contains(edition, StringComparer.Ordinal)
        ? null
        : $"unknown edition '{edition}' (known editions: {string.Join(", ", editions.Keys)})";
}
