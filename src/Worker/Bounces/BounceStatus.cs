using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Bounces;

/// <summary>The mailbox poller's last state, kept in the database so <c>bounces status</c> (another
/// process) and the workspace can show it.</summary>
public sealed record MailboxStatus(
    DateTime? LastPollAt, DateTime? LastSuccessAt, string? LastError, DateTime? LastErrorAt, int ConsecutiveFailures,
    DateTime? NextPollAt, MailboxPoll? LastPoll);

/// <summary>What came back over a period, by outcome and by source.</summary>
public sealed record BounceCounts(
    DateTime Since, int Total, IReadOnlyDictionary<BounceOutcome, int> ByOutcome, IReadOnlyDictionary<BounceSource, int> BySource,
    DateTime? LastReceivedAt);

public sealed class BounceStatusStore(NewsletterDbContext db)
{
    private const string Key = "bounces.mailbox";

    public async Task<MailboxStatus?> ReadAsync(CancellationToken cancellationToken)
    {
        var value = await db.Settings.AsNoTracking().Where(s => s.Key == Key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken);
        return value is null ? null : JsonSerializer.Deserialize<MailboxStatus>(value);
    }

    public async Task WriteAsync(MailboxStatus status, CancellationToken cancellationToken)
    {
        var value = JsonSerializer.Serialize(status);
        if (await db.Settings.Where(s => s.Key == Key).ExecuteUpdateAsync(u => u.SetProperty(s => s.Value, value), cancellationToken) == 0)
        {
            db.Settings.Add(new Setting { Key = Key, Value = value });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another instance wrote it first; its state is as good as ours.
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    public async Task<BounceCounts> CountAsync(DateTime since, CancellationToken cancellationToken)
    {
        var rows = await db.Bounces.AsNoTracking().Where(b => b.ReceivedAt >= since)
            .GroupBy(b => new { b.Outcome, b.Source }).Select(g => new { g.Key.Outcome, g.Key.Source, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var last = await db.Bounces.AsNoTracking().OrderByDescending(b => b.ReceivedAt).Select(b => (DateTime?)b.ReceivedAt).FirstOrDefaultAsync(cancellationToken);
        return new BounceCounts(since, rows.Sum(r => r.Count),
            rows.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Sum(r => r.Count)),
            rows.GroupBy(r => r.Source).ToDictionary(g => g.Key, g => g.Sum(r => r.Count)),
            last);
    }
}
