using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Newsletter.Tests.Delivery;

/// <summary>An EF Core interceptor that hears, right after it ran, each of the engine's claim
/// statements that took rows (<see cref="DeliveryWorld.IsClaim"/>), with the number it took.</summary>
public abstract class ClaimWatcher : DbCommandInterceptor
{
    protected abstract void OnClaim(int rows);

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Check(command, result);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Check(command, result);
        return ValueTask.FromResult(result);
    }

    private void Check(DbCommand command, int result)
    {
        if (result > 0 && DeliveryWorld.IsClaim(command.CommandText))
        {
            OnClaim(result);
        }
    }
}
