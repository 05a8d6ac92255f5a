using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command SubscribersCommand(CliContext context)
    {
        var command = new Command("subscribers", "Add and list subscribers.");
        command.Add(AddSubscriberCommand(context));
        command.Add(ListSubscribersCommand(context));
        return command;
    }

    private static Command AddSubscriberCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The subscriber's email address." };
        var name = new Option<string?>("--name") { Description = "How to greet them." };
        var editions = new Option<string?>("--editions") { Description = "Comma-separated edition keys (default: all)." };
        var confirmed = new Option<bool>("--confirmed") { Description = "They have already confirmed (e.g. by another opt-in)." };
        var command = new Command("add", "Add a subscriber.") { email, name, editions, confirmed };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var keys = (parse.GetValue(editions) ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var result = await services.GetRequiredService<SubscriberList>()
                .AddAsync(parse.GetRequiredValue(email), parse.GetValue(name), keys, parse.GetValue(confirmed), token);
            if (!result.Succeeded)
            {
                await context.Error.WriteLineAsync($"Not added: {result.Error}.");
                return 1;
            }
            var s = result.Subscriber!;
            await context.Out.WriteLineAsync(
                $"Added {s.Email} (id {s.Id}, {s.Status.ToString().ToLowerInvariant()}) to {string.Join(", ", s.Subscriptions.Select(x => x.Edition))}");
            return 0;
        }, ct));
        return command;
    }

    private static Command ListSubscribersCommand(CliContext context)
    {
        var edition = new Option<string?>("--edition") { Description = "Only subscribers of this edition." };
        var command = new Command("list", "List subscribers and their editions.") { edition };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var db = services.GetRequiredService<NewsletterDbContext>();
            var key = parse.GetValue(edition);
            var subscribers = await db.Subscribers.AsNoTracking().Include(s => s.Subscriptions)
                .Where(s => key == null || s.Subscriptions.Any(x => x.Edition == key && x.Status == SubscriptionStatus.Active))
                .OrderBy(s => s.Id).ToListAsync(token);
            if (subscribers.Count == 0)
            {
                await context.Out.WriteLineAsync("No subscribers.");
                return 0;
            }
            await context.Out.WriteLineAsync($"{"ID",6}  {"STATUS",-10} {"EMAIL",-36} {"NAME",-20} EDITIONS");
            foreach (var s in subscribers)
            {
                var active = s.Subscriptions.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.Edition).Order();
                await context.Out.WriteLineAsync(
                    $"{s.Id,6}  {s.Status.ToString().ToLowerInvariant(),-10} {s.Email,-36} {s.Name ?? "",-20} {string.Join(",", active)}");
            }
            return 0;
        }, ct));
        return command;
    }
}
