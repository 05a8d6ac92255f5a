using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>Editors manage each other's accounts in the workspace as the command line does, audited under their name.</summary>
public sealed class EditorsPageTests
{
    [Fact]
    public async Task An_editor_adds_and_removes_another_but_not_themselves()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/editors"));

        using var added = await Post("Add", ("email", "Kim@Example.org"), ("name", "Kim"));
        var addedPage = await added.Content.ReadAsStringAsync();
        using var invalid = await Post("Add", ("email", "not an address"));
        using var self = await Post("Remove", ("email", WorkspaceEditor.Email));
        using var removed = await Post("Remove", ("email", "kim@example.org"));

        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Contains("kim@example.org (Kim)", addedPage, StringComparison.Ordinal);
        Assert.Matches("One-time password, shown once — hand it over privately: <code>[a-z2-9-]{23}</code>", addedPage);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Contains("You cannot remove yourself", await self.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        await using var check = app.OpenDb();
        Assert.Equal([WorkspaceEditor.Email], await check.Editors.Select(e => e.Email).ToListAsync());
        var entries = await check.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("editor"))
            .OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync();
        Assert.Equal(["editor added editor kim@example.org", "editor removed editor kim@example.org"], entries);

        Task<HttpResponseMessage> Post(string handler, params (string Key, string Value)[] fields) =>
            client.PostAsync($"/admin/editors?handler={handler}", new FormUrlEncodedContent(
                fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))
                    .Append(new KeyValuePair<string, string>("__RequestVerificationToken", token))));
    }
}
