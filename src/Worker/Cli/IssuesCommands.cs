using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Data;
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
        issues.Add(TestSendCommand(context));
        issues.Add(ScreenshotsCommand(context));
        issues.Add(CancelCommand(context));
        issues.Add(SendNowCommand(context));
        return issues;
    }

    private static Argument<int> IssueIdArgument() => UsageProblem.IdArgument("issue", "newsletter issues list");

    private static Command QueueCommand(CliContext context)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The issue: Markdown with a front-matter block." };
        var allowDuplicate = new Option<bool>("--allow-duplicate")
        {
            Description = "Queue it even when the same issue (edition, subject, front matter and body) is already queued.",
        };
        var command = new Command("queue", "Check an issue file and add it to its edition's queue.") { file, allowDuplicate };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            var result = await services.GetRequiredService<IssueQueue>().QueueFileAsync(path, parse.GetValue(allowDuplicate), token);
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
        }, ct, DatabaseUse.MayCreate, audit: new(parse)));
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
            if (CliContext.UnknownEdition(services, key) is { } unknown)
            {
                await context.Error.WriteLineAsync(unknown);
                return 2;
            }
            var list = await services.GetRequiredService<IssueQueue>().List(key, parse.GetValue(all)).ToListAsync(token);
            if (list.Count == 0)
            {
                await context.Out.WriteLineAsync("No issues.");
                return 0;
            }
            var plan = services.GetRequiredService<EditionPlan>();
            await context.Out.WriteLineAsync($"{"ID",5}  {"EDITION",-18} {"STATUS",-10} {"GOES OUT",-40}  SUBJECT");
            foreach (var group in list.GroupBy(i => i.Edition).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var (schedule, _, forecast) = await plan.QueueAsync(group.Key, token);
                var queued = group.Where(i => i.Status == IssueStatus.Queued).ToList();
                var rows = queued
                    .OrderBy(i => forecast[i.Id].Slot ?? DateTimeOffset.MaxValue).ThenBy(i => i.Id)
                    .Select(i => (Issue: i, When: forecast[i.Id].Slot is { } slot
                        ? QueueForecast.Format(schedule, slot) + (i.SendOn is null ? "" : " (pinned)")
                        : forecast[i.Id].Reason!))
                    .Concat(group.Where(i => i.Status != IssueStatus.Queued)
                        .OrderByDescending(i => i.PublishedAt ?? i.CancelledAt).ThenByDescending(i => i.Id)
                        .Select(i => (Issue: i, When: i.Status == IssueStatus.Published
                            ? $"sent {Done(schedule, i.PublishedAt)}"
                            : $"cancelled {Done(schedule, i.CancelledAt)}")));
                foreach (var (i, when) in rows)
                {
                    await context.Out.WriteLineAsync(
                        $"{i.Id,5}  {i.Edition,-18} {i.Status.ToString().ToLowerInvariant(),-10} {when,-40}  {i.Subject}");
                }
            }
            return 0;
        }, ct));
        return command;
    }

    private static string Done(Editions.EditionSchedule schedule, DateTime? utc) =>
        utc is { } t ? QueueForecast.Format(schedule, new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc))) : "(time not recorded)";

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
            await o.WriteLineAsync($"  send on:   {issue.SendOn?.ToString("yyyy-MM-dd") ?? "not pinned: its place in the queue decides (see 'newsletter issues list')"}");
            await o.WriteLineAsync($"  queued:    {issue.QueuedAt:yyyy-MM-dd HH:mm} UTC");
            if (issue.PublishedAt is { } published)
            {
                await o.WriteLineAsync($"  published: {published:yyyy-MM-dd HH:mm} UTC");
            }
            if (issue.CancelledAt is { } cancelled)
            {
                await o.WriteLineAsync($"  cancelled: {cancelled:yyyy-MM-dd HH:mm} UTC");
            }
            if (issue.SourceFile is not null)
            {
                await o.WriteLineAsync($"  file:      {issue.SourceFile}");
            }
            foreach (var line in IssueDisplay.ExtrasLines(issue.ExtrasJson))
            {
                await o.WriteLineAsync(line);
            }
            await o.WriteLineAsync();
            await o.WriteLineAsync(issue.BodyMarkdown);
            return 0;
        }, ct));
        return command;
    }

    private static Argument<string> IssueArgument() =>
        new("ISSUE") { Description = "The issue's id (see 'issues list'), or the path of an issue file not yet queued." };

    /// <summary>Loads the issue an ISSUE argument names; prints why not and returns null when it cannot.</summary>
    private static async Task<Issue?> LoadIssueAsync(CliContext context, IssueQueue queue, string idOrFile, CancellationToken token)
    {
        var (issue, problems) = await queue.LoadAsync(idOrFile, token);
        foreach (var problem in problems)
        {
            await context.Error.WriteLineAsync(problem);
        }
        return issue;
    }

    /// <summary>The full message a reader would get, built and signed exactly as the sender builds it.</summary>
    private static MimeMessage BuildMessage(
        IServiceProvider services, Issue issue, RenderedEmail rendered, Recipient recipient, string messageIdPrefix) =>
        services.GetRequiredService<IssueTestSend>().Build(issue, rendered, recipient, messageIdPrefix);

    private static Command PreviewCommand(CliContext context)
    {
        var issueArgument = IssueArgument();
        var output = new Option<FileInfo>("--out") { Description = "Where to write the HTML; the .txt and .eml go beside it.", Required = true };
        var to = new Option<string>("--to") { Description = "The reader the .eml is addressed to.", DefaultValueFactory = _ => "Sam <sam@example.org>" };
        var command = new Command("preview",
            "Render an issue as a reader will get it: the HTML, the plain text and the complete message (.eml, every header included).")
        {
            issueArgument, output, to,
        };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var queue = services.GetRequiredService<IssueQueue>();
            if (await LoadIssueAsync(context, queue, parse.GetRequiredValue(issueArgument), token) is not { } issue)
            {
                return 1;
            }
            if (Mailbox(parse.GetRequiredValue(to)) is not { } reader)
            {
                await context.Error.WriteLineAsync($"--to: '{parse.GetRequiredValue(to)}' is not an email address");
                return 2;
            }
            var name = string.IsNullOrWhiteSpace(reader.Name) ? null : reader.Name;
            var rendered = await queue.PreviewAsync(issue, name ?? "Sam", token);
            var message = BuildMessage(services, issue, rendered, new Recipient(0, reader.Address, name), "preview");

            var path = parse.GetRequiredValue(output).FullName;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var textPath = Path.ChangeExtension(path, ".txt");
            var emlPath = Path.ChangeExtension(path, ".eml");
            await File.WriteAllTextAsync(path, rendered.Html, token);
            await File.WriteAllTextAsync(textPath, rendered.Text, token);
            await using (var eml = File.Create(emlPath))
            {
                var format = FormatOptions.Default.Clone();
                format.NewLineFormat = NewLineFormat.Dos;
                await message.WriteToAsync(format, eml, token);
            }
            await context.Out.WriteLineAsync($"Wrote {path}, {textPath} and {emlPath}");
            await context.Out.WriteLineAsync(
                $"  HTML {System.Text.Encoding.UTF8.GetByteCount(rendered.Html) / 1024.0:0.0} KB of Gmail's {IssueQueue.MaxHtmlBytes / 1024} KB");
            return 0;
        }, ct));
        return command;
    }

    private static Command TestSendCommand(CliContext context)
    {
        var issueArgument = IssueArgument();
        var to = new Option<string>("--to") { Description = "Who gets the test message, e.g. editor@example.org.", Required = true };
        var name = new Option<string?>("--name") { Description = "The name to greet (default: none)." };
        var command = new Command("test",
            "Send one real message of an issue to one address, through the configured transport, with the subject marked [TEST]. " +
            "The queue, publications and subscribers are not touched.")
        {
            issueArgument, to, name,
        };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var queue = services.GetRequiredService<IssueQueue>();
            if (await LoadIssueAsync(context, queue, parse.GetRequiredValue(issueArgument), token) is not { } issue)
            {
                return 1;
            }
            var address = parse.GetRequiredValue(to).Trim();
            if (Mailbox(address)?.Address != address)
            {
                await context.Error.WriteLineAsync($"--to: '{address}' is not a single email address (e.g. editor@example.org)");
                return 2;
            }
            var result = await services.GetRequiredService<IssueTestSend>().SendAsync(issue, address, parse.GetValue(name), token);
            if (!result.Sent)
            {
                await context.Error.WriteLineAsync(result.Message);
                return 1;
            }
            await context.Out.WriteLineAsync(result.Message);
            return 0;
        }, ct));
        return command;
    }

    private static Command ScreenshotsCommand(CliContext context)
    {
        var issueArgument = IssueArgument();
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder the PNG files are written to.", Required = true };
        var chromium = new Option<string?>("--chromium") { Description = "Chromium's executable (default: chromium or google-chrome on PATH)." };
        var command = new Command("screenshots",
            "Render an issue and take full-page screenshots with headless Chromium: 600 px and 375 px (phone) wide, light and dark.")
        {
            issueArgument, output, chromium,
        };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var queue = services.GetRequiredService<IssueQueue>();
            if (await LoadIssueAsync(context, queue, parse.GetRequiredValue(issueArgument), token) is not { } issue)
            {
                return 1;
            }
            if (ChromiumScreenshots.Find(parse.GetValue(chromium)) is not { } executable)
            {
                await context.Error.WriteLineAsync(
                    "Chromium was not found: install it (apt-get install chromium) or give its path with --chromium");
                return 1;
            }
            var rendered = await queue.PreviewAsync(issue, token);
            var directory = parse.GetRequiredValue(output).FullName;
            Directory.CreateDirectory(directory);
            var htmlFile = Path.Combine(directory, $".{issue.Edition}-{Guid.NewGuid():N}.html");
            await File.WriteAllTextAsync(htmlFile, rendered.Html, token);
            try
            {
                var prefix = issue.Id > 0 ? $"{issue.Edition}-{issue.Id}" : issue.Edition;
                var files = await new ChromiumScreenshots(executable)
                    .CaptureAsync(htmlFile, directory, prefix, ScreenshotVariant.Standard, token);
                foreach (var file in files)
                {
                    await context.Out.WriteLineAsync(file);
                }
                return 0;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.WebSockets.WebSocketException or TimeoutException)
            {
                await context.Error.WriteLineAsync($"Screenshots failed: {ex.Message}");
                return 1;
            }
            finally
            {
                File.Delete(htmlFile);
            }
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
        }, ct, audit: new(parse)));
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
            var progress = new ConsoleProgress<PublicationProgress>(p => context.Out.WriteLine($"  {p}"));
            var final = await engine.RunAsync(publication.Id, progress, token);
            await context.Out.WriteLineAsync(
                $"Done: {final.Sent} sent, {final.Failed} failed, {final.Skipped} skipped of {final.Total}.");
            var db = services.GetRequiredService<NewsletterDbContext>();
            var status = await db.Publications.AsNoTracking().Where(p => p.Id == publication.Id).Select(p => p.Status).FirstAsync(CancellationToken.None);
            return await SendEndAsync(context, services, publication.Id, status, token);
        }, ct, audit: new(parse, EvenIfStopped: true)));
        return command;
    }

    /// <summary>One mailbox from --to ("Sam &lt;sam@example.org&gt;" or a bare address); null when it is not exactly one.</summary>
    private static MailboxAddress? Mailbox(string value) => IssueTestSend.Mailbox(value);
}
