using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>The reader a personal link names. <see cref="Revoked"/>: issued before the reader's links were
/// revoked, which only an unsubscribe link survives, and then only to unsubscribe.</summary>
public sealed record ReaderLink(int SubscriberId, string LinkKey, LinkToken Token, bool Revoked);

/// <summary>Personal links: whom they name, and revoking all of a reader's links at once.</summary>
public sealed partial class SubscriptionService
{
    /// <summary>The reader behind a link for <paramref name="purpose"/>; null when the link is bad, names no
    /// reader of this database, or (for anything but unsubscribing) was revoked.</summary>
    public async Task<ReaderLink?> ResolveAsync(string? token, TokenPurpose purpose, CancellationToken cancellationToken = default)
    {
        if (!signer.TryVerify(token, purpose, out var link))
        {
            return null;
        }
        var reader = await FindAsync(link, cancellationToken);
        return reader is { Revoked: true } && purpose != TokenPurpose.Unsubscribe ? null : reader;
    }

    /// <summary>
    /// Every link of the reader issued until now stops working: preferences and confirmation links are
    /// refused, unsubscribe links only unsubscribe (they sit in emails already sent, and leaving must always
    /// work). Links in emails sent from now on work. False when there is no such reader.
    /// </summary>
    public async Task<bool> RevokeLinksAsync(int subscriberId, CancellationToken cancellationToken = default)
    {
        var now = Now;
        return await db.Set<Subscriber>().Where(s => s.Id == subscriberId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LinksRevokedAt, now), cancellationToken) == 1;
    }

    private async Task<ReaderLink?> FindAsync(LinkToken link, CancellationToken cancellationToken)
    {
        var readers = db.Set<Subscriber>().AsNoTracking();
        // Links of before key ids name a row id: only readers who were on the list then can be named so.
        readers = link.NamesRowId
            ? readers.Where(s => s.Id == link.Id && s.LegacyLinks)
            : readers.Where(s => s.LinkKey == link.Subject);
        var row = await readers.Select(s => new { s.Id, s.LinkKey, s.LinksRevokedAt }).FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }
        // Whole seconds on both sides: a link issued in the second of the revocation is refused too.
        var revoked = row.LinksRevokedAt is { } at
                      && link.IssuedAtUnixSeconds <= new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)).ToUnixTimeSeconds();
        return new ReaderLink(row.Id, row.LinkKey, link, revoked);
    }
}
