using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>An editor pauses and resumes a reader from the reader's page, audited; the list, its filter and
/// the send-now page show paused readers apart.</summary>
public sealed class ReaderPauseTests
{
    [Fact]
    public async Task An_editor_pauses_and_resumes_a_reader_and_the_counts_show_them_apart()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "add", "kim@example.org", "--name", "Kim", "--editions", "weekly-tip", "--confirmed");
        await app.RunCliOkAsync("subscribers", "add", "lee@example.org", "--editions", "weekly-tip", "--confirmed");
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("tip.md", TestData.TipIssue("Waiting to go")));
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/readers/1"));
        Task<HttpResponseMessage> Post(string handler, params (string Key, string Value)[] fields) =>
            client.PostAsync($"/admin/readers/1?handler={handler}", new FormUrlEncodedContent(
                fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))
                    .Append(new KeyValuePair<string, string>("__RequestVerificationToken", token))));

        using var badLength = await Post("Pause", ("length", "forever"));
        using var paused = await Post("Pause", ("length", "1m"));
        var page = await paused.Content.ReadAsStringAsync();
        DateTime? until;
        await using (var db = app.OpenDb())
        {
            until = await db.Subscribers.Where(s => s.Id == 1).Select(s => s.PausedUntil).SingleAsync();
        }
        var list = await client.GetStringAsync("/admin/readers");
        var filtered = await client.GetStringAsync("/admin/readers?state=paused");
        var sendNow = await client.GetStringAsync("/admin/issues/1/send");
        using var resumed = await Post("Resume");
        using var again = await Post("Resume");

        Assert.Equal(HttpStatusCode.BadRequest, badLength.StatusCode);
        Assert.Contains("unknown length", await badLength.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.NotNull(until);
        Assert.Contains($"paused until {until:yyyy-MM-dd HH:mm}", page, StringComparison.Ordinal);
        Assert.Contains("2 readers match (1 paused).", list, StringComparison.Ordinal);
        Assert.Contains($"paused until {until:yyyy-MM-dd}", list, StringComparison.Ordinal);
        Assert.Contains("1 reader match (1 paused).", filtered, StringComparison.Ordinal);
        Assert.Contains("kim@example.org", filtered, StringComparison.Ordinal);
        Assert.DoesNotContain("lee@example.org", filtered, StringComparison.Ordinal);
        Assert.Contains("<strong>1 reader</strong> (1 paused, left out)", sendNow, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("the reader was not paused", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using (var db = app.OpenDb())
        {
            Assert.Null(await db.Subscribers.Where(s => s.Id == 1).Select(s => s.PausedUntil).SingleAsync());
            var audit = await db.AuditLog.AsNoTracking().Where(a => a.Action.StartsWith("reader")).OrderBy(a => a.Id)
                .Select(a => $"{a.Actor} {a.Action} {a.Target}").ToListAsync();
            Assert.Equal([$"{WorkspaceEditor.Email} reader paused kim@example.org for 1m", $"{WorkspaceEditor.Email} reader resumed kim@example.org"], audit);
        }
    }
}
