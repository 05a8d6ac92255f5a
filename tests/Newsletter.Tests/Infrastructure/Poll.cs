using System.Diagnostics;

namespace Newsletter.Tests.Infrastructure;

/// <summary>The one way tests wait for what another thread or process does: poll until it holds, and
/// fail naming what never happened (a bound, not a timing assertion: it only ends a hung test).</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds:0} s waiting until {what}");
            }
            await Task.Delay(20);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);
}
