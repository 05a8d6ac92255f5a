using System.Net;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Admin;

/// <summary>Send now from the workspace: the confirmation says how many readers it reaches; the service's
/// own sender delivers it; the editor lands on the publication's page; a second send is refused.</summary>
public sealed class SendNowPageTests
{
    [Fact]
    public async Task An_editor_confirms_a_send_to_the_readers_counted_and_it_goes_out()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "add", "one@example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "add", "two@example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "add", "gone@example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "suppress", "gone@example.org");
        await app.RunCliOkAsync("subscribers", "add", "later@example.org");
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("tip.md", TestData.TipIssue("Sent from the workspace")));
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);

        var confirm = await client.GetStringAsync("/admin/issues/1/send");
        Assert.Contains("Send to 2 readers now", confirm, StringComparison.Ordinal);
        using var sent = await client.PostAsync("/admin/issues/1/send",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = WorkspaceEditor.Token(confirm) }));

        Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        Assert.Equal("/admin/publications/1", sent.Headers.Location!.OriginalString);
        await Poll.UntilAsync(async () =>
        {
            await using var db = app.OpenDb();
            return (await db.Publications.SingleAsync()).Status == PublicationStatus.Completed;
        }, "the service delivered the publication", TimeSpan.FromSeconds(60));
        await using var check = app.OpenDb();
        Assert.Equal(2, await check.Deliveries.CountAsync(d => d.Status == DeliveryStatus.Sent));
        var entry = await check.AuditLog.OrderByDescending(a => a.Id).FirstAsync();
        Assert.Equal((WorkspaceEditor.Email, "issue sent now", "issue 1"), (entry.Actor, entry.Action, entry.Target));
        using var again = await client.PostAsync("/admin/issues/1/send",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = WorkspaceEditor.Token(confirm) }));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("Not sent: issue 1 is published, not queued", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
