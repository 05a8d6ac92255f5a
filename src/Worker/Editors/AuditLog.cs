using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Editors;

/// <summary>Who changed what, and when. Entries are only ever added.</summary>
public sealed class AuditLog(NewsletterDbContext db, TimeProvider time)
{
    /// <summary>The actor named for a change made with the newsletter command.</summary>
    public static string CommandLine => $"command line ({Environment.UserName})";

    public async Task RecordAsync(string actor, string action, string? target, string? details, CancellationToken cancellationToken)
    {
        db.AuditLog.Add(new AuditEntry
        {
            At = time.GetUtcNow().UtcDateTime,
            Actor = Cut(actor, 320)!,
            Action = Cut(action, 100)!,
            Target = Cut(target, 500),
            Details = Cut(details, 2000),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Replaces an erased person's address wherever an entry names it, in any letter case.</summary>
    public async Task ForgetAsync(string address, CancellationToken cancellationToken)
    {
        var needle = EmailAddress.Normalize(address);
        if (needle.Length == 0)
        {
            return;
        }
        var sqlite = db.Database.IsSqlite();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (sqlite)
            {
                // As the erasure itself does: the old text must not stay readable in free space or the WAL.
                await db.Database.ExecuteSqlRawAsync("PRAGMA secure_delete = ON;", cancellationToken);
            }
            var entries = await db.AuditLog
                .Where(a => a.Target!.ToLower().Contains(needle) || a.Details!.ToLower().Contains(needle))
                .ToListAsync(cancellationToken);
            foreach (var entry in entries)
            {
                entry.Target = AddressMask.Erase(entry.Target, needle);
                entry.Details = AddressMask.Erase(entry.Details, needle);
            }
            await db.SaveChangesAsync(cancellationToken);
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Newest first.</summary>
    public Task<List<AuditEntry>> LatestAsync(int count, CancellationToken cancellationToken) =>
        db.AuditLog.AsNoTracking().OrderByDescending(a => a.Id).Take(count).ToListAsync(cancellationToken);

    private static string? Cut(string? value, int max) => value is { Length: > 0 } v && v.Length > max ? v[..max] : value;
}
