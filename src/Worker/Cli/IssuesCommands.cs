using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Issues;
using Newsletter.Worker.Publishing;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command IssuesCommand(CliContext context)
    {
        var issues = new Command("issues", "Queue, list, preview, cancel and send issues.");
        issues.Add(QueueCommand(context));
        issues.Add(ListIssuesCommand(context));
        issues.Add(ShowIssueCommand(context));
        issues.Add(PreviewCommand(context));
        issues.Add(CancelCommand(context));
        issues.Add(SendNowCommand(context));
        return issues;
    }

    private static Argument<int> IssueIdArgument() => new("ID") { Description = "The issue's id (see 'issues list')." };

    private static Command QueueCommand(CliContext context)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The issue: Markdown with a front-matter block." };
        var command = new Command("queue", "Check an issue file and add it to its edition's queue.") { file };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            var result = await services.GetRequiredService<IssueQueue>().QueueFileAsync(path, token);
            if (result.Issue is not { } issue)
            {
                foreach (var problem in result.Problems)
                {
                    await context.Error.WriteLineAsync(problem);
                }
                await context.Error.WriteLineAsync("Nothing was queued.");
                return 1;
            }
            await context.Out.WriteLineAsync($"{issue.Id}");
            await context.Error.WriteLineAsync(
                $"Queued issue {issue.Id} for {issue.Edition}: \"{issue.Subject}\"" + (issue.SendOn is { } d ? $" (pinned to {d:yyyy-MM-dd})" : ""));
            return 0;
        }, ct));
        return command;
    }

    private static Command ListIssuesCommand(CliContext context)
    {
        var edition = new Option<string?>("--edition") { Description = "Only this edition's issues." };
        var all = new Option<bool>("--all") { Description = "Include published and cancelled issues." };
        var command = new Command("list", "List queued issues in the order they will go out.") { edition, all };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var key = parse.GetValue(edition);
            if (key is not null && !services.GetRequiredService<IOptions<EditionsOptions>>().Value.TryGet(key, out _))
            {
                await context.Error.WriteLineAsync($"unknown edition '{key}'");
                return 1;
            }
            var list = await services.GetRequiredService<IssueQueue>().List(key, parse.GetValue(all)).ToListAsync(token);
            if (list.Count == 0)
            {
                await context.Out.WriteLineAsync("No issues.");
                return 0;
            }
            await context.Out.WriteLineAsync($"{"ID",5}  {"EDITION",-18} {"STATUS",-10} {"SEND ON",-10}  SUBJECT");
            foreach (var i in list)
            {
                await context.Out.WriteLineAsync(
                    $"{i.Id,5}  {i.Edition,-18} {i.Status.ToString().ToLowerInvariant(),-10} {i.SendOn?.ToString("yyyy-MM-dd") ?? "next slot",-10}  {i.Subject}");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command ShowIssueCommand(CliContext context)
    {
        var id = IssueIdArgument();
        var command = new Command("show", "Show an issue's details and body.") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            if (await services.GetRequiredService<IssueQueue>().FindAsync(parse.GetValue(id), token) is not { } issue)
            {
                await context.Error.WriteLineAsync($"there is no issue {parse.GetValue(id)}");
                return 1;
            }
            var o = context.Out;
            await o.WriteLineAsync($"Issue {issue.Id}");
            await o.WriteLineAsync($"  edition:   {issue.Edition}");
            await o.WriteLineAsync($"  subject:   {issue.Subject}");
            if (issue.Preheader is not null)
            {
                await o.WriteLineAsync($"  preheader: {issue.Preheader}");
            }
            await o.WriteLineAsync($"  status:    {issue.Status.ToString().ToLowerInvariant()}");
            await o.WriteLineAsync($"  send on:   {issue.SendOn?.ToString("yyyy-MM-dd") ?? "the edition's next slot"}");
            await o.WriteLineAsync($"  queued:    {issue.QueuedAt:yyyy-MM-dd HH:mm} UTC");
            if (issue.PublishedAt is { } published)
            {
                await o.WriteLineAsync($"  published: {published:yyyy-MM-dd HH:mm} UTC");
            }
            if (issue.SourceFile is not null)
            {
                await o.WriteLineAsync($"  file:      {issue.SourceFile}");
            }
            if (issue.ExtrasJson != "{}")
            {
                await o.WriteLineAsync($"  extras:    {issue.ExtrasJson}");
            }
            await o.WriteLineAsync();
            await o.WriteLineAsync(issue.BodyMarkdown);
            return 0;
        }, ct));
        return command;
    }

    private static Command PreviewCommand(CliContext context)
    {
        var id = IssueIdArgument();
        var output = new Option<FileInfo>("--out") { Description = "Where to write the HTML.", Required = true };
        var command = new Command("preview", "Render an issue as a reader will see it and write the HTML to a file.") { id, output };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var queue = services.GetRequiredService<IssueQueue>();
            if (await queue.FindAsync(parse.GetValue(id), token) is not { } issue)
            {
                await context.Error.WriteLineAsync($"there is no issue {parse.GetValue(id)}");
                return 1;
            }
            var rendered = await queue.PreviewAsync(issue, token);
            var path = parse.GetRequiredValue(output).FullName;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, rendered.Html, token);
            await File.WriteAllTextAsync(Path.ChangeExtension(path, ".txt"), rendered.Text, token);
            await context.Out.WriteLineAsync($"Wrote {path} and {Path.ChangeExtension(path, ".txt")}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CancelCommand(CliContext context)
    {
        var id = IssueIdArgument();
        var command = new Command("cancel", "Take a queued issue out of the queue.") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var queue = services.GetRequiredService<IssueQueue>();
            if (await queue.CancelAsync(parse.GetValue(id), token))
            {
                await context.Out.WriteLineAsync($"Issue {parse.GetValue(id)} is cancelled; it will not be sent.");
                return 0;
            }
            var issue = await queue.FindAsync(parse.GetValue(id), token);
            await context.Error.WriteLineAsync(issue is null
                ? $"there is no issue {parse.GetValue(id)}"
                : $"issue {issue.Id} is {issue.Status.ToString().ToLowerInvariant()}, not queued; nothing changed");
            return 1;
        }, ct));
        return command;
    }

    private static Command SendNowCommand(CliContext context)
    {
        var id = IssueIdArgument();
        var command = new Command("send-now",
            "Publish a queued issue now, outside its schedule, and deliver it to every confirmed subscriber of its edition.") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            PublishResult result;
            try
            {
                result = await services.GetRequiredService<Publisher>().PublishNowAsync(parse.GetValue(id), token);
            }
            catch (InvalidOperationException ex)
            {
                await context.Error.WriteLineAsync(ex.Message);
                return 1;
            }
            var publication = result.Publication!;
            await context.Out.WriteLineAsync(
                $"Publication {publication.Id}: sending issue {publication.IssueId} to {publication.RecipientCount} recipient(s)");
            var engine = services.GetRequiredService<DeliveryEngine>();
            var progress = new Progress<PublicationProgress>(p => context.Out.WriteLine($"  {p}"));
            var final = await engine.RunAsync(publication.Id, progress, token);
            await context.Out.WriteLineAsync(
                $"Done: {final.Sent} sent, {final.Failed} failed, {final.Skipped} skipped of {final.Total}.");
            return 0;
        }, ct));
        return command;
    }
}
