using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Export;
using Newsletter.Subscribers.Import;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Maintenance;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Subscribers.Suppressions;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command SubscribersCommand(CliContext context)
    {
        var command = new Command("subscribers", "Add, list, import and export subscribers; suppress addresses; export or erase a person's data.");
        command.Add(AddSubscriberCommand(context));
        command.Add(ListSubscribersCommand(context));
        command.Add(ImportSubscribersCommand(context));
        command.Add(ExportSubscribersCommand(context));
        command.Add(ExportDataCommand(context));
        command.Add(EraseCommand(context));
        command.Add(SuppressCommand(context));
        command.Add(UnsuppressCommand(context));
        command.Add(PurgeUnconfirmedCommand(context));
        command.Add(RevokeLinksCommand(context));
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
        }, ct, DatabaseUse.MayCreate, audit: new(parse)));
        return command;
    }

    private static Command ListSubscribersCommand(CliContext context)
    {
        var edition = new Option<string?>("--edition") { Description = "Only people who chose this edition (in any state, unless --state)." };
        var state = new Option<string?>("--state")
        {
            Description = "Only people in this state (for --edition's edition, else for any edition): pending, confirmed, paused or left.",
        };
        state.AcceptOnlyFromAmong(SubscriberStates.Names);
        var command = new Command("list",
            "List subscribers with their state in each edition: pending (not confirmed yet: receives nothing), " +
            "confirmed (receives it), paused (confirmed, but asked for a break: nothing until it ends), left (unsubscribed).") { edition, state };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var key = parse.GetValue(edition);
            if (CliContext.UnknownEdition(services, key) is { } unknown)
            {
                await context.Error.WriteLineAsync(unknown);
                return 2;
            }
            var wanted = parse.GetValue(state);
            var editions = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Worker.Editions.EditionsOptions>>().Value.Keys;
            var db = services.GetRequiredService<NewsletterDbContext>();
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            var subscribers = await db.Subscribers.AsNoTracking().Include(s => s.Subscriptions)
                .Where(s => key == null || s.Subscriptions.Any(x => x.Edition == key))
                .OrderBy(s => s.Id).ToListAsync(token);
            var rows = subscribers
                .Select(s => (Subscriber: s, States: editions.ToDictionary(e => e, e => SubscriberStates.Of(s, e, now))))
                .Where(r => wanted is null || (key is null ? r.States.Values.Contains(wanted) : r.States[key] == wanted))
                .ToList();
            if (rows.Count == 0)
            {
                await context.Out.WriteLineAsync(subscribers.Count == 0 && key is null
                    ? "No subscribers."
                    : "No subscribers match." + (key is null ? "" : $" ({key})") + (wanted is null ? "" : $" ({wanted})"));
                return 0;
            }
            var widths = editions.Select(e => Math.Max(e.Length, 9)).ToList();
            await context.Out.WriteLineAsync($"{"ID",6}  {"EMAIL",-36} {"NAME",-20} " +
                string.Join(" ", editions.Select((e, n) => e.PadRight(widths[n]))).TrimEnd());
            foreach (var (s, states) in rows)
            {
                await context.Out.WriteLineAsync($"{s.Id,6}  {s.Email,-36} {s.Name ?? "",-20} " +
                    string.Join(" ", editions.Select((e, n) => (states[e] ?? "-").PadRight(widths[n]))).TrimEnd());
            }
            await context.Out.WriteLineAsync("pending: has not confirmed yet and receives nothing; confirmed: receives it; " +
                "paused: confirmed, but taking a break and left out of every send until it ends; left: unsubscribed; -: never chose it.");
            return 0;
        }, ct));
        return command;
    }

    private static Command ImportSubscribersCommand(CliContext context)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "CSV with a header row: email,name,editions,consented_at,source." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check every row and report, but import nothing." };
        var command = new Command("import",
            "Import subscribers from CSV. Rows with consented_at import as confirmed; the others wait, pending, for their own confirmation. " +
            "Invalid rows are reported by line and skipped; addresses already on the list are left as they are, so re-running a file changes nothing.")
        { file, dryRun };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            if (!File.Exists(path))
            {
                await context.Error.WriteLineAsync($"There is no file {path}.");
                return 1;
            }
            var watch = Stopwatch.StartNew();
            ImportReport report;
            await using (var stream = File.OpenRead(path))
            {
                report = await services.GetRequiredService<SubscriberImporter>().ImportAsync(stream, parse.GetValue(dryRun), token);
            }
            watch.Stop();
            if (report.FileError is { } fileError)
            {
                await context.Error.WriteLineAsync($"{Path.GetFileName(path)}: {fileError}");
                await context.Error.WriteLineAsync("Nothing was imported.");
                return 1;
            }
            foreach (var problem in report.Problems)
            {
                await context.Error.WriteLineAsync($"{Path.GetFileName(path)}: {problem}");
            }
            var verb = report.DryRun ? "would import" : "imported";
            await context.Out.WriteLineAsync(
                $"{report.Rows} row(s): {verb} {report.Imported} ({report.ImportedConfirmed} confirmed, {report.ImportedPending} pending without consent evidence), " +
                $"{report.AlreadyOnList} already on the list, {report.Problems.Count} refused" +
                (report.DryRun ? " (dry run: nothing was changed)" : "") + $" in {watch.Elapsed.TotalSeconds:0.0} s.");
            return report.Problems.Count == 0 ? 0 : 1;
        }, ct, parse.GetValue(dryRun) ? DatabaseUse.Existing : DatabaseUse.MayCreate,
            audit: parse.GetValue(dryRun) ? null : new(parse)));
        return command;
    }

    private static Command ExportSubscribersCommand(CliContext context)
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write the CSV to this file instead of standard output." };
        var command = new Command("export", "Export the list as CSV (the import's columns, then status, created_at, confirmed_at).") { output };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var exporter = services.GetRequiredService<SubscriberExporter>();
            int count;
            if (parse.GetValue(output) is { } target)
            {
                var temporary = target.FullName + ".tmp";
                Directory.CreateDirectory(Path.GetDirectoryName(target.FullName)!);
                await using (var writer = new StreamWriter(temporary, append: false, new System.Text.UTF8Encoding(false)))
                {
                    count = await exporter.ExportAsync(writer, token);
                }
                File.Move(temporary, target.FullName, overwrite: true);
                await context.Error.WriteLineAsync($"Exported {count} subscriber(s) to {target.FullName}.");
            }
            else
            {
                count = await exporter.ExportAsync(context.Out, token);
                await context.Out.FlushAsync(token);
                await context.Error.WriteLineAsync($"Exported {count} subscriber(s).");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command ExportDataCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The person's email address." };
        var command = new Command("export-data",
            "Print everything held about one person as JSON: profile, subscriptions, consent records, suppression and delivery history.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var address = parse.GetRequiredValue(email);
            var export = await services.GetRequiredService<PersonalDataService>().ExportAsync(address, token);
            if (export is null)
            {
                await context.Error.WriteLineAsync($"No subscriber has the address {address}.");
                return 1;
            }
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(export, PersonalDataJson.Options));
            return 0;
        }, ct));
        return command;
    }

    private static Command EraseCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The person's email address." };
        var command = new Command("erase",
            "Delete a person's data (profile, subscriptions, consent records, anything naming them in delivery records). " +
            "Only a hash of the address is kept, on the suppression list, so it is never mailed or added again.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var address = parse.GetRequiredValue(email);
            var result = await services.GetRequiredService<PersonalDataService>().EraseAsync(address, token);
            if (result.InvalidAddress)
            {
                await context.Error.WriteLineAsync($"Nothing erased: {result.Error}.");
                return 1;
            }
            // Earlier commands named the address in the audit log; erasure reaches there too.
            await services.GetRequiredService<AuditLog>().ForgetAsync(address, token);
            await context.Out.WriteLineAsync(result.Found
                ? $"Erased {address}. Its hash stays on the suppression list (reason: erased)."
                : $"No subscriber had the address {address}. Its hash is on the suppression list (reason: erased), so it is never added.");
            return 0;
        }, ct, DatabaseUse.MayCreate, audit: new(parse, WithArguments: false)));
        return command;
    }

    private static Command SuppressCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The address never to mail again." };
        var reason = new Option<string>("--reason") { Description = "manual (default), hard-bounce or complaint.", DefaultValueFactory = _ => "manual" };
        var note = new Option<string?>("--note") { Description = "Why, for the record (no personal data, please)." };
        var command = new Command("suppress", "Put an address on the suppression list: it is never mailed again, nor added back by a sign-up or import.")
        {
            email, reason, note,
        };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            SuppressionReason? why = parse.GetValue(reason)?.ToLowerInvariant() switch
            {
                "manual" => SuppressionReason.Manual,
                "hard-bounce" or "hardbounce" => SuppressionReason.HardBounce,
                "complaint" => SuppressionReason.Complaint,
                _ => null,
            };
            if (why is null)
            {
                await context.Error.WriteLineAsync($"--reason: unknown reason '{parse.GetValue(reason)}': use manual, hard-bounce or complaint.");
                return 2;
            }
            var result = await services.GetRequiredService<SuppressionList>()
                .SuppressAsync(parse.GetRequiredValue(email), why.Value, parse.GetValue(note), cancellationToken: token);
            switch (result.Outcome)
            {
                case SuppressOutcome.InvalidAddress:
                    await context.Error.WriteLineAsync($"Not suppressed: {result.Error}.");
                    return 1;
                case SuppressOutcome.AlreadySuppressed:
                    await context.Out.WriteLineAsync($"{parse.GetRequiredValue(email)} was already suppressed (reason: {Word(result.Reason)}).");
                    return 0;
                default:
                    await context.Out.WriteLineAsync($"Suppressed {parse.GetRequiredValue(email)} (reason: {Word(result.Reason)}).");
                    return 0;
            }
        }, ct, DatabaseUse.MayCreate, audit: new(parse)));
        return command;
    }

    private static Command UnsuppressCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The address to take off the suppression list." };
        var command = new Command("unsuppress",
            "Take an address off the suppression list (to correct a mistake). The person still has to sign up and confirm again.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var address = parse.GetRequiredValue(email);
            if (await services.GetRequiredService<SuppressionList>().UnsuppressAsync(address, token))
            {
                await context.Out.WriteLineAsync($"{address} is no longer suppressed.");
                return 0;
            }
            await context.Error.WriteLineAsync($"{address} was not on the suppression list.");
            return 1;
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command RevokeLinksCommand(CliContext context)
    {
        var email = new Argument<string>("EMAIL") { Description = "The reader's email address." };
        var command = new Command("revoke-links",
            "Stop every link sent to a reader so far from opening their preferences or confirming anything (a forwarded email); " +
            "unsubscribe links still unsubscribe, and links in the next email work.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var address = parse.GetRequiredValue(email);
            var normalized = EmailAddress.Normalize(address);
            var id = await services.GetRequiredService<NewsletterDbContext>().Subscribers
                .Where(s => s.NormalizedEmail == normalized).Select(s => (int?)s.Id).FirstOrDefaultAsync(token);
            if (id is null || !await services.GetRequiredService<SubscriptionService>().RevokeLinksAsync(id.Value, token))
            {
                await context.Error.WriteLineAsync($"No subscriber has the address {address}.");
                return 1;
            }
            await context.Out.WriteLineAsync($"Revoked the links sent to {address} so far; unsubscribe links in them still unsubscribe.");
            return 0;
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command PurgeUnconfirmedCommand(CliContext context)
    {
        var command = new Command("purge-unconfirmed",
            "Delete sign-ups nobody confirmed within Subscribers:PurgeUnconfirmedAfterDays (the service does this on its own every Subscribers:PurgeInterval).");
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<UnconfirmedPurge>().PurgeAsync(token);
            await context.Out.WriteLineAsync($"Purged: {result}.");
            return 0;
        }, ct, audit: new(parse)));
        return command;
    }

    /// <summary>A person's state in one edition, as the sender sees it: only a confirmed person's
    /// active subscription is mailed.</summary>
    private static class SubscriberStates
    {
        public static readonly string[] Names = ["pending", "confirmed", "paused", "left"];

        public static string? Of(Subscriber s, string edition, DateTime now) => s.Subscriptions.FirstOrDefault(x => x.Edition == edition) switch
        {
            null => null,
            { Status: SubscriptionStatus.Unsubscribed } => "left",
            { Status: SubscriptionStatus.Active } when s.Status == SubscriberStatus.Confirmed && s.PausedUntil > now => "paused",
            { Status: SubscriptionStatus.Active } when s.Status == SubscriberStatus.Confirmed => "confirmed",
            _ => "pending",
        };
    }

    private static string Word(SuppressionReason reason) => reason switch
    {
        SuppressionReason.HardBounce => "hard-bounce",
        SuppressionReason.SoftBounces => "soft-bounces",
        _ => reason.ToString().ToLowerInvariant(),
    };
}
