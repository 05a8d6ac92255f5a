using System.CommandLine;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command PublicationsCommand(CliContext context)
    {
        var publications = new Command("publications", "Watch and control sends: list, show, pause, resume, cancel, send, compact.");
        publications.Add(ListPublicationsCommand(context));
        publications.Add(ShowPublicationCommand(context));
        publications.Add(PauseCommand(context));
        publications.Add(ResumeCommand(context));
        publications.Add(CancelPublicationCommand(context));
        publications.Add(SendPublicationCommand(context));
        publications.Add(CompactCommand(context));
        return publications;
    }

    private static Argument<int> PublicationIdArgument() => UsageProblem.IdArgument("publication", "newsletter publications list");

    private static Command ListPublicationsCommand(CliContext context)
    {
        var edition = new Option<string?>("--edition") { Description = "Only this edition's publications." };
        var limit = UsageProblem.CountOption("--limit", "How many, newest first.", 20);
        var command = new Command("list", "List publications, newest first, with how far each send has got.") { edition, limit };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var db = services.GetRequiredService<NewsletterDbContext>();
            var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
            var key = parse.GetValue(edition);
            if (CliContext.UnknownEdition(services, key) is { } unknown)
            {
                await context.Error.WriteLineAsync(unknown);
                return 2;
            }
            var query = db.Publications.AsNoTracking();
            if (key is not null)
            {
                query = query.Where(p => p.Edition == key);
            }
            var list = await query.OrderByDescending(p => p.Id).Take(parse.GetValue(limit)).ToListAsync(token);
            if (list.Count == 0)
            {
                await context.Out.WriteLineAsync("No publications yet.");
                return 0;
            }
            var ids = list.Select(p => p.Id).ToList();
            var counts = await db.Deliveries.Where(d => ids.Contains(d.PublicationId))
                .GroupBy(d => new { d.PublicationId, d.Status })
                .Select(g => new { g.Key.PublicationId, g.Key.Status, Count = g.Count() })
                .ToListAsync(token);
            await context.Out.WriteLineAsync($"{"ID",5}  {"EDITION",-18} {"STATUS",-10} {"ISSUE",5}  {"SENT",17}  SLOT");
            foreach (var p in list)
            {
                var mine = counts.Where(c => c.PublicationId == p.Id).ToList();
                var compacted = p.CompactedAt is null ? null : PublicationProgress.FromCompacted(p);
                var total = compacted?.Total ?? mine.Sum(c => c.Count);
                var sent = compacted?.Sent ?? mine.Where(c => c.Status == DeliveryStatus.Sent).Sum(c => c.Count);
                var progress = p.IssueId is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{sent:N0}/{total:N0}");
                await context.Out.WriteLineAsync(
                    $"{p.Id,5}  {p.Edition,-18} {PublicationControl.Name(p.Status),-10} {p.IssueId?.ToString(CultureInfo.InvariantCulture) ?? "-",5}  {progress,17}  {DescribeSlot(editions, p)}");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command ShowPublicationCommand(CliContext context)
    {
        var id = PublicationIdArgument();
        var command = new Command("show", "Show a publication: sent, pending, retrying, failed and skipped; rate and time left; the issue's results.") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var db = services.GetRequiredService<NewsletterDbContext>();
            var editions = services.GetRequiredService<IOptions<EditionsOptions>>().Value;
            var delivery = services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            var publicationId = parse.GetValue(id);
            if (await db.Publications.AsNoTracking().FirstOrDefaultAsync(p => p.Id == publicationId, token) is not { } p)
            {
                await context.Error.WriteLineAsync($"there is no publication {publicationId}");
                return 1;
            }
            var view = (await PublicationView.ReadAsync(db, p.Id, now, token))!;
            var progress = view.Progress;
            var rate = progress.Rate;
            var c = CultureInfo.InvariantCulture;
            var o = context.Out;
            var displayName = editions.TryGet(p.Edition, out var e) ? $" ({e.DisplayName})" : "";
            await o.WriteLineAsync($"Publication {p.Id}");
            await o.WriteLineAsync($"  edition:    {p.Edition}{displayName}");
            if (view.Subject is not null)
            {
                await o.WriteLineAsync($"  issue:      {p.IssueId} \"{view.Subject}\"");
            }
            await o.WriteLineAsync($"  slot:       {DescribeSlot(editions, p)}{(p.Kind == PublicationKind.Scheduled ? "" : $" ({Kind(p.Kind)})")}");
            await o.WriteLineAsync($"  status:     {PublicationControl.Name(p.Status)}");
            if (p.CompletedAt is { } completed)
            {
                await o.WriteLineAsync($"  finished:   {DescribeTime(editions, p.Edition, completed)}");
            }
            if (p.Note is not null)
            {
                await o.WriteLineAsync($"  note:       {p.Note}");
            }
            if (p.IssueId is null)
            {
                return 0;
            }
            await o.WriteLineAsync(string.Create(c, $"  recipients: {progress.Total:N0} ({progress.Percent:0.0}% done)"));
            await o.WriteLineAsync(string.Create(c, $"  sent:       {progress.Sent:N0}"));
            await o.WriteLineAsync(string.Create(c, $"  pending:    {progress.Pending:N0}"));
            await o.WriteLineAsync(string.Create(c, $"  retrying:   {progress.Retrying:N0}"));
            await o.WriteLineAsync(string.Create(c, $"  failed:     {progress.Failed:N0}"));
            await o.WriteLineAsync(string.Create(c, $"  skipped:    {progress.Skipped:N0}"));
            if (progress.Unsent > 0)
            {
                await o.WriteLineAsync(string.Create(c, $"  not sent:   {progress.Unsent:N0} (the publication stopped first)"));
            }
            await o.WriteLineAsync(string.Create(c,
                $"  errors:     {p.ErrorCount:N0}{(delivery.ErrorBudget > 0 ? $" (pauses past {delivery.ErrorBudget:N0})" : "")}"));
            if (p.Status == PublicationStatus.Sending)
            {
                await o.WriteLineAsync(rate > 0
                    ? string.Create(c, $"  rate:       {rate:0.0} messages/s over the last minute")
                    : "  rate:       nothing sent in the last minute");
                await o.WriteLineAsync($"  ETA:        {view.Eta ?? "unknown until messages go out"}");
            }

            var results = view.Results;
            await o.WriteLineAsync("  results:");
            await o.WriteLineAsync(string.Create(c, $"    delivered:    {results.Delivered:N0} (failed {results.Failed:N0}, skipped {results.Skipped:N0})"));
            await o.WriteLineAsync($"    bounced:      {results.DescribeBounced()}");
            await o.WriteLineAsync($"    complaints:   {results.DescribeComplaints()}");
            await o.WriteLineAsync($"    unsubscribed: {results.DescribeUnsubscribed()} through this issue's links");

            if (view.Failures.Count > 0)
            {
                await o.WriteLineAsync("  latest failures:");
                foreach (var (email, result) in view.Failures)
                {
                    await o.WriteLineAsync($"    {email}: {result}");
                }
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command PauseCommand(CliContext context) => ControlCommand(context, "pause",
        "Pause a send: messages on their way finish, nobody else is mailed until you resume it.",
        (control, id, token) => control.PauseAsync(id, token));

    private static Command ResumeCommand(CliContext context) => ControlCommand(context, "resume",
        "Resume a paused send (with a fresh error budget).",
        (control, id, token) => control.ResumeAsync(id, token));

    private static Command CancelPublicationCommand(CliContext context) => ControlCommand(context, "cancel",
        "Stop a send for good: recipients not mailed yet will not get this issue.",
        (control, id, token) => control.CancelAsync(id, token));

    private static Command ControlCommand(
        CliContext context, string name, string description, Func<PublicationControl, int, CancellationToken, Task<ControlResult>> act)
    {
        var id = PublicationIdArgument();
        var command = new Command(name, description) { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await act(services.GetRequiredService<PublicationControl>(), parse.GetValue(id), token);
            await (result.Changed ? context.Out : context.Error).WriteLineAsync(result.Message);
            return result.Changed ? 0 : 1;
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command SendPublicationCommand(CliContext context)
    {
        var id = PublicationIdArgument();
        var command = new Command("send",
            "Deliver a sending publication from this process until it is done (when the service is not running, " +
            "or to add a second sender; several can share one send).") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var db = services.GetRequiredService<NewsletterDbContext>();
            var publicationId = parse.GetValue(id);
            if (await db.Publications.AsNoTracking().FirstOrDefaultAsync(p => p.Id == publicationId, token) is not { } publication)
            {
                await context.Error.WriteLineAsync($"there is no publication {publicationId}");
                return 1;
            }
            if (publication.Status != PublicationStatus.Sending)
            {
                await context.Error.WriteLineAsync(
                    $"publication {publicationId} is {PublicationControl.Name(publication.Status)}, not sending; nothing to do" +
                    (publication.Status == PublicationStatus.Paused ? $" (resume it first: 'newsletter publications resume {publicationId}')" : ""));
                return 1;
            }
            await context.Out.WriteLineAsync($"Publication {publicationId}: delivering from this process");
            var engine = services.GetRequiredService<DeliveryEngine>();
            var progress = new ConsoleProgress<PublicationProgress>(p => context.Out.WriteLine($"  {p}"));
            var final = await engine.RunAsync(publicationId, progress, token);
            var status = await db.Publications.AsNoTracking().Where(p => p.Id == publicationId).Select(p => p.Status).FirstAsync(CancellationToken.None);
            await context.Out.WriteLineAsync(
                $"Publication {publicationId} is {PublicationControl.Name(status)}: {final}. This process sent {final.SentByThisRun}.");
            return await SendEndAsync(context, services, publicationId, status, token);
        }, ct, audit: new(parse, EvenIfStopped: true)));
        return command;
    }

    /// <summary>The exit code of a send from this process: 0 when the publication is complete, or still
    /// sending only because another sender holds the rest; 1, with the reason and what to do, when it
    /// stopped first (paused by the error budget, cancelled, stale, the database refusing its writes,
    /// or this process interrupted).</summary>
    internal static async Task<int> SendEndAsync(
        CliContext context, IServiceProvider services, int publicationId, PublicationStatus status, CancellationToken token)
    {
        if (status == PublicationStatus.Sending && services.GetRequiredService<DeliveryWrites>().Current is { } refused)
        {
            // The engine has said why in its log line; this says what to do.
            await context.Error.WriteLineAsync(
                $"publication {publicationId} stopped because the database refused to save outcomes ({refused.Reason}); " +
                $"once it has space, carry on with 'newsletter publications send {publicationId}', or start the service");
            return 1;
        }
        if (status == PublicationStatus.Completed || (status == PublicationStatus.Sending && !token.IsCancellationRequested))
        {
            return 0;
        }
        await context.Error.WriteLineAsync(status switch
        {
            PublicationStatus.Sending => $"interrupted before every recipient had an outcome; carry on with 'newsletter publications send {publicationId}', or start the service",
            PublicationStatus.Paused => $"publication {publicationId} was paused before every recipient had an outcome ('newsletter publications show {publicationId}' says why); carry on with 'newsletter publications resume {publicationId}'",
            _ => $"publication {publicationId} stopped as {PublicationControl.Name(status)} before every recipient had an outcome",
        });
        return 1;
    }

    private static string Kind(PublicationKind kind) => kind switch
    {
        PublicationKind.SendNow => "sent now, outside the schedule",
        PublicationKind.CatchUp => "caught up after the service was down",
        _ => "scheduled",
    };

    private static string DescribeSlot(EditionsOptions editions, Publication p) => DescribeTime(editions, p.Edition, p.SlotUtc);

    private static string DescribeTime(EditionsOptions editions, string edition, DateTime utc) =>
        editions.TryGet(edition, out var e)
            ? new EditionSchedule(e).Describe(new DateTimeOffset(utc, TimeSpan.Zero))
            : $"{utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";

    private static Command CompactCommand(CliContext context)
    {
        var command = new Command("compact",
            "Fold the delivery rows of publications finished longer ago than Delivery:KeepDeliveryRowsFor into their counts " +
            "and each reader's totals (the service does this every six hours).");
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<DeliveryCompaction>().CompactAsync(token);
            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.Publications} publication(s) compacted, {result.RowsRemoved:N0} delivery row(s) removed"));
            return 0;
        }, ct, audit: new(parse)));
        return command;
    }
}
