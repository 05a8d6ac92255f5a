using Microsoft.EntityFrameworkCore;

namespace Newsletter.Worker.Data;

/// <summary>
/// SQLite plans from statistics only once ANALYZE has gathered them. Without them it takes any index on
/// a column compared for equality as selective, so a readers' filter on status read the readers through
/// the status index and sorted them all for one page (docs/benchmarks.md, Workspace pages). SQL Server
/// keeps its own statistics.
/// </summary>
public static class DatabaseStatistics
{
    /// <summary>Gathers statistics for the readers' tables (~0.1 s at 100,000 readers). The deliveries are left
    /// alone: the send's plans are pinned by tests on a database without statistics, and the table is the largest.</summary>
    public static async Task RefreshAsync(NewsletterDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("ANALYZE \"Subscribers\"; ANALYZE \"Subscriptions\";", cancellationToken);
        }
    }
}
