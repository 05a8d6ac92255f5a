using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Admin;

/// <summary>A publication's page: its counts, the live figures for the page's script, and pause / resume /
/// cancel as an editor, each written to the audit log under the editor's name.</summary>
public sealed class PublicationPageTests
{
    private const string Email = WorkspaceEditor.Email;

    [Fact]
    public async Task An_editor_resumes_a_paused_send_and_the_audit_log_names_them()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "add", "reader@example.org", "--confirmed");
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("tip.md", TestData.TipIssue("A tip to resume")));
        int publicationId;
        await using (var db = app.OpenDb())
        {
            var now = TimeProvider.System.GetUtcNow().UtcDateTime;
            var publication = new Publication
            {
                Edition = "weekly-tip", SlotUtc = now, Kind = PublicationKind.SendNow, Status = PublicationStatus.Paused,
                IssueId = 1, CreatedAt = now, RecipientCount = 1, Note = "paused by the test",
            };
            db.Publications.Add(publication);
            await db.SaveChangesAsync();
            publicationId = publication.Id;
            db.Deliveries.Add(new DeliveryRecord
            {
                PublicationId = publicationId, SubscriberId = (await db.Subscribers.SingleAsync()).Id,
                Status = DeliveryStatus.Pending, NextAttemptAt = now,
            });
            await db.SaveChangesAsync();
        }
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);

        var page = await client.GetStringAsync($"/admin/publications/{publicationId}");
        Assert.Contains("A tip to resume", page, StringComparison.Ordinal);
        Assert.Contains("paused by the test", page, StringComparison.Ordinal);
        Assert.Contains(">Resume</button>", page, StringComparison.Ordinal);
        Assert.DoesNotContain(">Pause</button>", page, StringComparison.Ordinal);
        using var resumed = await client.PostAsync($"/admin/publications/{publicationId}?handler=Resume",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = Token(page) }));

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Contains("role=\"status\"", await resumed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var live = JsonDocument.Parse(await client.GetStringAsync($"/admin/api/publications/{publicationId}"));
        Assert.Contains(live.RootElement.GetProperty("status").GetString(), new[] { "sending", "completed" });
        Assert.Equal(1, live.RootElement.GetProperty("total").GetInt32());
        await using var check = app.OpenDb();
        var entry = await check.AuditLog.OrderByDescending(a => a.Id).FirstAsync();
        Assert.Equal((Email, "publication resumed", $"publication {publicationId}"), (entry.Actor, entry.Action, entry.Target));
        using var missing = await client.GetAsync("/admin/publications/999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static string Token(string html) => WorkspaceEditor.Token(html);
}
