using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Admin;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Editors;

namespace Newsletter.Tests.Cli;

/// <summary>`newsletter editors …` manages the workspace's accounts; every command that changes something
/// leaves an audit entry, and erasing a person reaches the audit log too.</summary>
public sealed class EditorsCommandsTests
{
    [Fact]
    public async Task Add_list_reset_and_remove_an_editor()
    {
        await using var app = TestApp.Create();

        var added = await app.RunCliOkAsync("editors", "add", "sam@example.org", "--name", "Sam");
        var password = WorkspaceEditor.OneTimePassword(added.Out);
        var list = await app.RunCliOkAsync("editors", "list");
        var reset = await app.RunCliOkAsync("editors", "reset-password", "sam@example.org");
        var again = await app.RunCliAsync("editors", "add", "sam@example.org");
        var removed = await app.RunCliOkAsync("editors", "remove", "sam@example.org");
        var gone = await app.RunCliAsync("editors", "remove", "sam@example.org");
        var empty = await app.RunCliOkAsync("editors", "list");

        Assert.Contains("Added editor sam@example.org.", added.Out, StringComparison.Ordinal);
        Assert.NotEmpty(password);
        Assert.Contains("sam@example.org (Sam)", list.Out, StringComparison.Ordinal);
        Assert.Contains("last sign-in never; must change the one-time password", list.Out, StringComparison.Ordinal);
        Assert.NotEqual(password, WorkspaceEditor.OneTimePassword(reset.Out));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("sam@example.org is already an editor", again.Error, StringComparison.Ordinal);
        Assert.Contains("Removed editor sam@example.org.", removed.Out, StringComparison.Ordinal);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("sam@example.org is not an editor", gone.Error, StringComparison.Ordinal);
        Assert.Contains("No editors yet", empty.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_change_is_in_the_audit_log_and_nothing_else_is()
    {
        await using var app = TestApp.Create();
        var file = app.WriteFile("tip.md", TestData.TipIssue("Audited tip"));

        await app.RunCliOkAsync("editors", "add", "sam@example.org");
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed");
        await app.RunCliOkAsync("issues", "queue", file);
        await app.RunCliOkAsync("issues", "list");
        await app.RunCliOkAsync("editors", "list");
        Assert.Equal(1, (await app.RunCliAsync("issues", "cancel", "99")).ExitCode);
        await app.RunCliOkAsync("issues", "cancel", "1");
        var log = await app.RunCliOkAsync("audit");

        await using var db = app.OpenDb();
        var entries = await db.AuditLog.OrderBy(a => a.Id).ToListAsync();
        Assert.Equal(["editors add", "subscribers add", "issues queue", "issues cancel"], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal(AuditLog.CommandLine, e.Actor));
        Assert.Equal("sam@example.org", entries[0].Target);
        Assert.Equal("1", entries[3].Target);
        var lines = log.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Contains("issues cancel 1", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("password", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Erasing_a_person_removes_their_address_from_the_audit_log()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "Reader@Example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "suppress", "reader@example.org", "--note", "asked by reader@example.org");

        await app.RunCliOkAsync("subscribers", "erase", "reader@example.org");

        await using var db = app.OpenDb();
        var entries = await db.AuditLog.OrderBy(a => a.Id).ToListAsync();
        Assert.Equal(["subscribers add", "subscribers suppress", "subscribers erase"], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.DoesNotContain("reader@example.org", $"{e.Target} {e.Details}", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("(erased address)", entries[0].Target, StringComparison.Ordinal);
        Assert.Null(entries[2].Target);
    }

    [Fact]
    public async Task Notify_turns_an_editors_emails_on_and_off_and_is_audited_only_when_it_changes_something()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("editors", "add", "sam@example.org");

        var muted = await app.RunCliOkAsync("editors", "notify", "Sam@Example.org", "--summaries", "off");
        var shown = await app.RunCliOkAsync("editors", "notify", "sam@example.org");
        var bad = await app.RunCliAsync("editors", "notify", "sam@example.org", "--empty-slots", "maybe");
        var unknown = await app.RunCliAsync("editors", "notify", "nobody@example.org", "--summaries", "on");

        Assert.Contains("sam@example.org: empty-slot warnings on, publication summaries off.", muted.Out, StringComparison.Ordinal);
        Assert.Contains("publication summaries off", shown.Out, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("nobody@example.org is not an editor", unknown.Error, StringComparison.Ordinal);
        await using var db = app.OpenDb();
        var editor = await db.Editors.SingleAsync();
        Assert.Equal((false, true), (editor.MuteEmptySlotWarnings, editor.MutePublicationSummaries));
        var entries = await db.AuditLog.OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync();
        Assert.Equal(["editors add sam@example.org", "editors notify Sam@Example.org --summaries off"], entries);
    }
}
