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

    [Fact]
    public async Task An_editor_pins_an_issue_to_a_slot_day_and_unpins_it_and_a_day_without_a_slot_is_refused()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("a.md", TestData.TipIssue("First tip")));
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("b.md", TestData.TipIssue("Second tip")));
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/queue"));
        // Tip of the Week goes out on Thursdays: one three weeks or more ahead, and the Friday after it.
        var thursday = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime).AddDays(21);
        while (thursday.DayOfWeek != DayOfWeek.Thursday)
        {
            thursday = thursday.AddDays(1);
        }

        using var friday = await Post("Pin", 2, thursday.AddDays(1));
        using var pinned = await Post("Pin", 2, thursday);
        var pinnedPage = await pinned.Content.ReadAsStringAsync();
        using var taken = await Post("Pin", 1, thursday);
        using var unpinned = await Post("Unpin", 2, null);

        Assert.Equal(HttpStatusCode.BadRequest, friday.StatusCode);
        Assert.Contains("is not a day Tip of the Week goes out", await friday.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
        Assert.Contains(thursday.ToString("ddd d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture) + " 09:00", pinnedPage, StringComparison.Ordinal);
        Assert.True(Order(pinnedPage, "First tip", "Second tip"));
        Assert.Equal(HttpStatusCode.BadRequest, taken.StatusCode);
        Assert.Contains("another queued issue is already pinned", await taken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, unpinned.StatusCode);
        await using var db = app.OpenDb();
        Assert.All(await db.Issues.ToListAsync(), i => Assert.Null(i.SendOn));
        Assert.Equal([$"issue pinned to {thursday:yyyy-MM-dd} issue 2", "issue unpinned issue 2"],
            await db.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("issue"))
                .OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync());

        Task<HttpResponseMessage> Post(string handler, int id, DateOnly? day) => client.PostAsync($"/admin/queue?handler={handler}",
            new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["id"] = $"{id}",
                ["day"] = day?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
                ["__RequestVerificationToken"] = token,
            }));
    }

    private static bool Order(string text, params string[] inOrder)
    {
        var at = inOrder.Select(s => text.IndexOf(s, StringComparison.Ordinal)).ToList();
        return at.All(i => i >= 0) && at.SequenceEqual(at.Order());
    }
}
