using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The queue page shows each edition's queue in the order it goes out; moving and cancelling there
/// change what the publisher takes, and are audited under the editor's name.</summary>
public sealed class QueuePageTests
{
    [Fact]
    public async Task An_editor_moves_an_issue_earlier_and_cancels_one_and_the_command_line_sees_the_new_order()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        foreach (var subject in new[] { "First tip", "Second tip", "Third tip" })
        {
            await app.RunCliOkAsync("issues", "queue", app.WriteFile($"{Guid.NewGuid():N}.md", TestData.TipIssue(subject)));
        }
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var page = await client.GetStringAsync("/admin/queue");
        Assert.True(Order(page, "First tip", "Second tip", "Third tip"), page);
        var token = WorkspaceEditor.Token(page);

        using var moved = await Post("Earlier", 3);
        using var firstAlready = await Post("Earlier", 1);
        using var cancelled = await Post("Cancel", 2);

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.True(Order(await moved.Content.ReadAsStringAsync(), "First tip", "Third tip", "Second tip"));
        Assert.Equal(HttpStatusCode.BadRequest, firstAlready.StatusCode);
        Assert.Contains("Issue 1 was not changed: it is already first", await firstAlready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("Second tip", await cancelled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var list = await app.RunCliOkAsync("issues", "list");
        Assert.True(Order(list.Out, "First tip", "Third tip"), list.Out);
        await using var check = app.OpenDb();
        Assert.Equal(["issue moved earlier issue 3", "issue cancelled issue 2"],
            await check.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("issue"))
                .OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync());

        Task<HttpResponseMessage> Post(string handler, int id) => client.PostAsync($"/admin/queue?handler={handler}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["id"] = $"{id}", ["__RequestVerificationToken"] = token }));
    }

    private static bool Order(string text, params string[] inOrder)
    {
        var at = inOrder.Select(s => text.IndexOf(s, StringComparison.Ordinal)).ToList();
        return at.All(i => i >= 0) && at.SequenceEqual(at.Order());
    }
}
