using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Bounces;

/// <summary>What the database holds after a bounce, read straight from it (not through the code under test).</summary>
internal static class BounceRecords
{
    /// <summary>Why the address is suppressed, or null when it is not.</summary>
    public static async Task<SuppressionReason?> SuppressionAsync(TestApp app, string email)
    {
        await using var db = app.OpenDb();
        var hash = TestApp.AddressHash(email);
        return await db.Suppressions.Where(s => s.EmailHash == hash).Select(s => (SuppressionReason?)s.Reason).FirstOrDefaultAsync();
    }

    /// <summary>Every bounce recorded, oldest first.</summary>
    public static async Task<List<Bounce>> AllAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        return await db.Bounces.AsNoTracking().OrderBy(b => b.Id).ToListAsync();
    }
}
