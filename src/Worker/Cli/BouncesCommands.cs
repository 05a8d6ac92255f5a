using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command BouncesCommand(CliContext context) =>
        new("bounces", "What comes back: the bounce mailbox's state, one poll now, or one saved message.")
        {
            BounceStatusCommand(context),
            BouncePollCommand(context),
            BounceProcessCommand(context),
        };

    private static Command BounceStatusCommand(CliContext context)
    {
        var days = new Option<int>("--days") { Description = "How far back to count (default 30).", DefaultValueFactory = _ => 30 };
        var command = new Command("status", "The mailbox's last poll and error, the webhooks, and what came back lately.") { days };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            if (parse.GetValue(days) is < 1 or > 3650)
            {
                await context.Error.WriteLineAsync("--days must be between 1 and 3650.");
                return 2;
            }
            var o = services.GetRequiredService<IOptions<BouncesOptions>>().Value;
            var store = services.GetRequiredService<BounceStatusStore>();
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            var status = await store.ReadAsync(token);
            var counts = await store.CountAsync(now.AddDays(-parse.GetValue(days)), token);
            var w = context.Out;
            await w.WriteLineAsync($"mailbox:        {o.Describe()}");
            await w.WriteLineAsync($"last poll:      {(status?.LastPollAt is { } at ? $"{Utc(at)}, {(status.ConsecutiveFailures == 0 ? "succeeded" : "failed")}" : "never")}");
            if (status?.LastPoll is { } poll)
            {
                await w.WriteLineAsync($"last success:   {Utc(status.LastSuccessAt)}: {poll.Read} read, {poll.Acted} acted on, {poll.Duplicates} seen before, " +
                                       $"{poll.Unreadable} unreadable, {poll.Kept} left for a person");
            }
            if (status?.LastError is { } error)
            {
                await w.WriteLineAsync($"last error:     {Utc(status.LastErrorAt)}: {error}");
            }
            if (status is { ConsecutiveFailures: > 0 })
            {
                await w.WriteLineAsync($"failing:        {status.ConsecutiveFailures} poll(s) in a row; next try {Utc(status.NextPollAt)}");
            }
            else if (status?.NextPollAt is { } next && o.Protocol is not null)
            {
                await w.WriteLineAsync($"next poll:      {Utc(next)} (while the service runs)");
            }
            await w.WriteLineAsync($"Amazon SES:     {(o.Ses.Enabled ? $"on, POST /webhooks/ses, {o.Ses.TopicArns.Length} topic(s)" : "off")}");
            await w.WriteLineAsync($"Postmark:       {(o.Postmark.Secret is { Length: > 0 } ? "on, POST /webhooks/postmark" : "off")}");
            await w.WriteLineAsync($"since {Utc(counts.Since)}: {counts.Total:N0} message(s)");
            foreach (var (outcome, words) in BounceWords.Outcomes)
            {
                await w.WriteLineAsync($"  {words,-38}{counts.ByOutcome.GetValueOrDefault(outcome):N0}");
            }
            if (counts.BySource.Count > 0)
            {
                await w.WriteLineAsync("  by source: " + string.Join(", ", counts.BySource.OrderBy(s => s.Key).Select(s => $"{BounceWords.Source(s.Key)} {s.Value:N0}")));
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command BouncePollCommand(CliContext context)
    {
        var command = new Command("poll", "Read the bounce mailbox once now (the running service does it every Bounces:PollInterval).");
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var poller = services.GetRequiredService<BouncePoller>();
            if (!poller.Enabled)
            {
                await context.Error.WriteLineAsync("The bounce mailbox is not configured: set Bounces:Protocol, Host, UserName and Password.");
                return 2;
            }
            try
            {
                var poll = await poller.PollOnceAsync(token);
                await context.Out.WriteLineAsync($"{poll.Read} read, {poll.Acted} acted on, {poll.Duplicates} seen before, {poll.Unreadable} unreadable, {poll.Kept} left for a person.");
                return 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await context.Error.WriteLineAsync($"Reading the bounce mailbox failed: {BouncePoller.OneLine(ex)}");
                return 1;
            }
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command BounceProcessCommand(CliContext context)
    {
        var file = new Argument<FileInfo>("FILE.eml") { Description = "A saved message (a bounce, a complaint, an auto-reply…)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what it means and whom it names; change nothing." };
        var command = new Command("process", "Treat one saved message as if it had arrived in the bounce mailbox.") { file, dryRun };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var path = parse.GetRequiredValue(file);
            var o = services.GetRequiredService<IOptions<BouncesOptions>>().Value;
            if (!path.Exists)
            {
                await context.Error.WriteLineAsync($"{path.FullName}: no such file.");
                return 1;
            }
            if (path.Length > o.MaxMessageSize)
            {
                await context.Error.WriteLineAsync($"{path.FullName}: {path.Length / 1024:N0} KB is over Bounces:MaxMessageSize ({o.MaxMessageSize / 1024:N0} KB).");
                return 1;
            }
            MimeMessage message;
            try
            {
                message = await MimeMessage.LoadAsync(path.FullName, token);
            }
            catch (FormatException ex)
            {
                await context.Error.WriteLineAsync($"{path.FullName}: not readable as a message ({ex.Message}).");
                return 1;
            }
            var report = BounceReport.FromMessage(message, BounceSource.File, services.GetRequiredService<VerpAddresses>());
            var r = report.Reading;
            await context.Out.WriteLineAsync($"meaning:    {BounceWords.Kind(r.Kind)}: {r.Reason}");
            if (r.Status is not null || r.Diagnostic is not null)
            {
                await context.Out.WriteLineAsync($"status:     {r.Status ?? "-"}{(r.Diagnostic is null ? "" : $"  ({r.Diagnostic})")}");
            }
            await context.Out.WriteLineAsync($"names:      {Names(report)}");
            if (parse.GetValue(dryRun))
            {
                await context.Out.WriteLineAsync("Dry run: nothing changed.");
                return 0;
            }
            var result = await services.GetRequiredService<BounceProcessor>().ProcessAsync(report, token);
            await context.Out.WriteLineAsync(result.Duplicate
                ? "outcome:    already processed before; nothing changed"
                : $"outcome:    {BounceWords.Outcome(result.Outcome)}" +
                  (result.SubscriberId is { } s ? $" (subscriber {s}{(result.PublicationId is { } p ? $", publication {p}" : "")})" : ""));
            return 0;
        }, ct, audit: new(parse)));
        return command;
    }

    private static string Names(BounceReport report) => report.Address switch
    {
        { Token: { } t } => t.PublicationId == 0 ? $"a test send to subscriber {t.SubscriberId} (by its VERP address)"
            : $"subscriber {t.SubscriberId} of publication {t.PublicationId} (by its VERP address)",
        { Forged: true } => "a VERP address whose token does not verify (forged or damaged)",
        _ when report.Reading.Recipient is { } recipient => $"{recipient} (from the report; no VERP address)",
        _ => "nobody",
    };

    private static string Utc(DateTime? at) => at is { } value ? value.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "never";
}
