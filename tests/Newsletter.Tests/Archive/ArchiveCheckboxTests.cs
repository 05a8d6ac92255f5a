using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Admin;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Archive;

/// <summary>The workspace's "Show in the public archive" box: unticked it is <c>archive: false</c>, for drafts,
/// queued issues and edits alike, and the form shows what was saved.</summary>
public sealed class ArchiveCheckboxTests
{
    [Fact]
    public async Task Unticking_the_archive_box_keeps_an_issue_out_of_the_archive_and_ticking_it_again_puts_it_back()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        (string, string)[] tip = [("Form.Edition", "weekly-tip"), ("Form.Subject", "A quiet tip"), ("Form.Body", "## Try this\n\nRest.")];

        // A browser sends the hidden "false" alone when the box is unticked, "true" then "false" when it is ticked.
        using var draft = await PostAsync(client, "/admin/issues/write", "Draft", [.. tip, ("Form.Archive", "false")]);
        Assert.Equal(HttpStatusCode.Redirect, draft.StatusCode);
        Assert.False(await InArchiveAsync(app));
        var page = await client.GetStringAsync("/admin/issues/write/1");
        Assert.Matches("""<input id="f-archive" name="Form.Archive" type="checkbox" value="true" aria-describedby""", page);

        using var queued = await PostAsync(client, "/admin/issues/write/1", "Queue", [.. tip, ("Form.Archive", "false")]);
        Assert.Equal(HttpStatusCode.Redirect, queued.StatusCode);
        Assert.False(await InArchiveAsync(app));

        using var ticked = await PostAsync(client, "/admin/issues/write/1", "Queue", [.. tip, ("Form.Archive", "true"), ("Form.Archive", "false")]);
        Assert.Equal(HttpStatusCode.Redirect, ticked.StatusCode);
        Assert.True(await InArchiveAsync(app));
        Assert.Contains("""value="true" checked="checked" """, await client.GetStringAsync("/admin/issues/write/1"), StringComparison.Ordinal);
    }

    private static async Task<bool> InArchiveAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        return (await db.Issues.AsNoTracking().SingleAsync()).InArchive;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string handler, params (string Key, string Value)[] fields)
    {
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/issues/write?edition=weekly-tip"));
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)).Append(new("__RequestVerificationToken", token));
        return await client.PostAsync($"{path}?handler={handler}", new FormUrlEncodedContent(form));
    }
}
