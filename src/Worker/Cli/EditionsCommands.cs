using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command EditionsCommand(CliContext context)
    {
        var command = new Command("editions", "List each edition: its schedule, next slot (in its own zone and in UTC) and queue depth.");
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
            var db = services.GetRequiredService<NewsletterDbContext>();
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var depths = await db.Issues.Where(i => i.Status == IssueStatus.Queued)
                .GroupBy(i => i.Edition).Select(g => new { g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.Key, g => g.Count, token);
            foreach (var key in editions.Keys)
            {
                var edition = editions.Get(key);
                var schedule = new EditionSchedule(edition);
                var next = schedule.NextSlotAfter(now);
                await context.Out.WriteLineAsync($"{key}  ({edition.DisplayName})");
                await context.Out.WriteLineAsync($"  schedule:   {edition.Schedule}  in {edition.TimeZone}");
                await context.Out.WriteLineAsync(next is { } n
                    ? $"  next slot:  {schedule.Describe(n)}  =  {n.UtcDateTime:yyyy-MM-dd HH:mm} UTC"
                    : "  next slot:  none (the schedule has no future slot)");
                await context.Out.WriteLineAsync($"  queued:     {depths.GetValueOrDefault(key)} issue(s)");
            }
            return 0;
        }, ct));
        return command;
    }
}
