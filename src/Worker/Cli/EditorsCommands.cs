using System.CommandLine;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private static Command EditorsCommand(CliContext context)
    {
        var command = new Command("editors", "The accounts that may sign in to the editor's workspace: add, list, remove, reset a password.");
        command.Add(AddEditorCommand(context));
        command.Add(ListEditorsCommand(context));
        command.Add(RemoveEditorCommand(context));
        command.Add(ResetEditorPasswordCommand(context));
        command.Add(EditorNotificationsCommand(context));
        return command;
    }

    private static Argument<string> EditorEmailArgument() => new("EMAIL") { Description = "The editor's email address (their sign-in name)." };

    private static Command AddEditorCommand(CliContext context)
    {
        var email = EditorEmailArgument();
        var name = new Option<string?>("--name") { Description = "Their name, as the workspace shows it." };
        var command = new Command("add", "Add an editor; prints a one-time password they change at their first sign-in.") { email, name };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<EditorAccounts>().AddAsync(parse.GetRequiredValue(email), parse.GetValue(name), token);
            return await ReportAccountChangeAsync(context, result, $"Added editor {result.Editor?.Email}.");
        }, ct, DatabaseUse.MayCreate, audit: new(parse)));
        return command;
    }

    private static Command ListEditorsCommand(CliContext context)
    {
        var command = new Command("list", "List the editors: when added, last signed in, and whether a password change or a lockout is pending.");
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var editors = await services.GetRequiredService<EditorAccounts>().ListAsync(token);
            if (editors.Count == 0)
            {
                await context.Out.WriteLineAsync("No editors yet. Add the first with: newsletter editors add EMAIL");
                return 0;
            }
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            foreach (var e in editors)
            {
                await context.Out.WriteLineAsync(
                    $"{e.Email}{(e.Name is null ? "" : $" ({e.Name})")}  added {Utc(e.CreatedAt)}, " +
                    $"last sign-in {(e.LastSignInAt is { } at ? Utc(at) : "never")}{State(e, now)}");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command RemoveEditorCommand(CliContext context)
    {
        var email = EditorEmailArgument();
        var command = new Command("remove", "Remove an editor: they can no longer sign in. The audit log keeps what they did.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<EditorAccounts>().RemoveAsync(parse.GetRequiredValue(email), token);
            return await ReportAccountChangeAsync(context, result, $"Removed editor {result.Editor?.Email}.");
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command ResetEditorPasswordCommand(CliContext context)
    {
        var email = EditorEmailArgument();
        var command = new Command("reset-password",
            "Give an editor a new one-time password (the old one stops working, a lockout ends); they change it at their next sign-in.") { email };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<EditorAccounts>().ResetPasswordAsync(parse.GetRequiredValue(email), token);
            return await ReportAccountChangeAsync(context, result, $"New one-time password for {result.Editor?.Email}.");
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command EditorNotificationsCommand(CliContext context)
    {
        var email = EditorEmailArgument();
        var emptySlots = OnOffOption("--empty-slots", "Emails about an edition's next slot with nothing queued.");
        var summaries = OnOffOption("--summaries", "A summary email after each publication finishes.");
        var command = new Command("notify", "Turn an editor's emails from the service on or off; without options, show them.") { email, emptySlots, summaries };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var result = await services.GetRequiredService<EditorNotifications>().ChooseAsync(
                parse.GetRequiredValue(email), OnOff(parse.GetValue(emptySlots)), OnOff(parse.GetValue(summaries)), token);
            return await ReportAccountChangeAsync(context, result, $"{result.Editor?.Email}: {(result.Editor is { } e ? EditorNotifications.Describe(e) : "")}.");
        }, ct, audit: parse.GetValue(emptySlots) is null && parse.GetValue(summaries) is null ? null : new(parse)));
        return command;
    }

    private static Option<string?> OnOffOption(string name, string description)
    {
        var option = new Option<string?>(name) { Description = $"{description} on or off.", HelpName = "on|off" };
        option.AcceptOnlyFromAmong("on", "off");
        return option;
    }

    private static bool? OnOff(string? value) => value is null ? null : value == "on";

    private static Command AuditCommand(CliContext context)
    {
        var limit = UsageProblem.CountOption("--limit", "How many, newest first.", 50);
        var command = new Command("audit", "Show the audit log, newest first: who changed what, and when (commands and the workspace alike).") { limit };
        command.SetAction((parse, ct) => context.RunAsync(async (services, token) =>
        {
            var entries = await services.GetRequiredService<AuditLog>().LatestAsync(parse.GetValue(limit), token);
            if (entries.Count == 0)
            {
                await context.Out.WriteLineAsync("The audit log is empty.");
            }
            foreach (var a in entries)
            {
                await context.Out.WriteLineAsync(
                    $"{Utc(a.At)}  {a.Actor}  {a.Action}{(a.Target is null ? "" : $" {a.Target}")}{(a.Details is null ? "" : $"  ({a.Details})")}");
            }
            return 0;
        }, ct));
        return command;
    }

    private static async Task<int> ReportAccountChangeAsync(CliContext context, EditorChange result, string done)
    {
        if (!result.Succeeded)
        {
            await context.Error.WriteLineAsync(result.Error);
            return 1;
        }
        await context.Out.WriteLineAsync(done);
        if (result.OneTimePassword is { } password)
        {
            // The only time it is shown: only its hash is stored.
            await context.Out.WriteLineAsync($"One-time password (shown once; hand it over privately): {password}");
        }
        return 0;
    }


    private static string State(Editor e, DateTime now) =>
        e.LockedUntil > now ? $"; locked until {Utc(e.LockedUntil.Value)}"
        : e.MustChangePassword ? "; must change the one-time password"
        : "";
}
