using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The readers' pages over HTTP against the real app: search, a reader's page, each change made and audited
/// under the editor's name, adding with the command line's checks, and CSV import and export.</summary>
public sealed partial class ReadersPageTests
{
    [Fact]
    public async Task The_list_searches_filters_by_edition_and_state_and_pages_by_fifty_with_the_total()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "import", app.WriteFile("list.csv", "email,name,editions,consented_at\n" +
            string.Concat(Enumerable.Range(1, 55).Select(i => $"reader{i:00}@example.org,Reader {i},weekly-tip,2026-01-05\n"))));
        await app.RunCliOkAsync("subscribers", "add", "kim@example.org", "--name", "Kim", "--editions", "weekly-fact");
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);

        var all = await client.GetStringAsync("/admin/readers");
        var kim = await client.GetStringAsync("/admin/readers?q=KIM");
        var pending = await client.GetStringAsync("/admin/readers?edition=weekly-fact&state=pending");
        var confirmedTip = await client.GetStringAsync("/admin/readers?edition=weekly-tip&state=confirmed&q=reader0");
        var next = await client.GetStringAsync(Link(all, "next"));
        var back = await client.GetStringAsync(Link(next, "prev"));
        using var badState = await client.GetAsync("/admin/readers?state=gone");

        Assert.Contains("56 readers match.", all, StringComparison.Ordinal);
        Assert.Equal(50, Rows(all).Count);
        Assert.Equal("kim@example.org", Rows(all)[0]);
        Assert.DoesNotContain("rel=\"prev\"", all, StringComparison.Ordinal);
        Assert.Equal(["kim@example.org"], Rows(kim));
        Assert.Contains("1 reader match.", kim, StringComparison.Ordinal);
        Assert.Contains("weekly-fact: pending", kim, StringComparison.Ordinal);
        Assert.Equal(["kim@example.org"], Rows(pending));
        Assert.Equal(9, Rows(confirmedTip).Count);
        Assert.Equal([.. Enumerable.Range(1, 6).Reverse().Select(i => $"reader{i:00}@example.org")], Rows(next));
        Assert.DoesNotContain("rel=\"next\"", next, StringComparison.Ordinal);
        Assert.Equal(Rows(all), Rows(back));
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Contains("There is no state", await badState.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_readers_page_shows_their_editions_consent_deliveries_and_suppression()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "import", app.WriteFile("list.csv",
            "email,name,editions,consented_at,source\nrae@example.org,Rae,weekly-tip,2026-01-05,shop checkout\n"));
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("tip.md", TestData.TipIssue("Sent to Rae")));
        await app.RunCliOkAsync("issues", "send-now", "1");
        await app.RunCliOkAsync("subscribers", "suppress", "rae@example.org", "--reason", "complaint", "--note", "asked by phone");
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);

        var page = await client.GetStringAsync("/admin/readers/1");
        using var missing = await client.GetAsync("/admin/readers/99");

        Assert.Contains(">rae@example.org</h1>", page, StringComparison.Ordinal);
        Assert.Contains("<td>Rae</td>", page, StringComparison.Ordinal);
        Assert.Matches(@"<td>Tip of the Week</td>\s*<td>confirmed</td>\s*<td>2026-01-05 00:00</td>", page);
        Assert.Matches(@"<td>Fact of the Week</td>\s*<td>never chose it</td>", page);
        Assert.Contains("<td>import: shop checkout</td>", page, StringComparison.Ordinal);
        Assert.Matches(@"<a href=""/admin/publications/1"">#1</a> weekly-tip: Sent to Rae</td>\s*<td>sent</td>", page);
        Assert.Contains("(complaint): asked by phone", page, StringComparison.Ordinal);
        Assert.Contains("Lift the suppression", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Each_change_on_a_readers_page_reaches_the_database_and_the_audit_log_and_erasure_scrubs_the_address()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await app.RunCliOkAsync("subscribers", "add", "Kim@Example.org", "--name", "Kim", "--editions", "weekly-tip", "--confirmed");
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/readers/1"));
        await using var db = app.OpenDb();

        using var subscribed = await Post("/admin/readers/1?handler=Subscribe", ("edition", "weekly-fact"));
        using var unsubscribed = await Post("/admin/readers/1?handler=Unsubscribe", ("edition", "weekly-tip"));
        using var comeBack = await Post("/admin/readers/1?handler=Subscribe", ("edition", "weekly-tip"));
        using var unknown = await Post("/admin/readers/1?handler=Subscribe", ("edition", "weekly-nope"));
        var states = await db.Subscriptions.AsNoTracking().OrderBy(s => s.Edition).Select(s => $"{s.Edition} {s.Status}").ToListAsync();
        using var suppressed = await Post("/admin/readers/1?handler=Suppress", ("reason", "manual"), ("note", "bounced twice"));
        var suppression = await db.Suppressions.AsNoTracking().SingleAsync();
        using var unsuppressed = await Post("/admin/readers/1?handler=Unsuppress");
        var suppressionsAfter = await db.Suppressions.CountAsync();
        using var exported = await Post("/admin/readers/1?handler=ExportData");
        var confirmation = await client.GetStringAsync("/admin/readers/1/erase");
        using var erased = await Post("/admin/readers/1/erase");

        Assert.Equal(HttpStatusCode.OK, subscribed.StatusCode);
        Assert.Contains("Done: subscribed to weekly-fact.", await subscribed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, unsubscribed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, comeBack.StatusCode);
        Assert.Contains("coming back takes their own confirmation", await comeBack.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["weekly-fact Active", "weekly-tip Unsubscribed"], states);
        Assert.Equal(HttpStatusCode.OK, suppressed.StatusCode);
        Assert.Equal((TestApp.AddressHash("kim@example.org"), SuppressionReason.Manual, "bounced twice"), (suppression.EmailHash, suppression.Reason, suppression.Note));
        Assert.Equal(HttpStatusCode.OK, unsuppressed.StatusCode);
        Assert.Equal(0, suppressionsAfter);
        Assert.Equal("application/json", exported.Content.Headers.ContentType!.MediaType);
        using (var json = JsonDocument.Parse(await exported.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Kim@Example.org", json.RootElement.GetProperty("profile").GetProperty("email").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("subscriptions").GetArrayLength());
        }
        Assert.Contains("a SHA-256 hash of the address on the suppression list", confirmation, StringComparison.Ordinal);
        Assert.Contains("(erased address)", confirmation, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        Assert.Contains("Erased.", await erased.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await db.Subscribers.CountAsync());
        Assert.Equal(0, await db.Subscriptions.CountAsync());
        Assert.Equal(SuppressionReason.Erased, (await db.Suppressions.AsNoTracking().SingleAsync()).Reason);
        var audit = await db.AuditLog.AsNoTracking().OrderBy(a => a.Id).ToListAsync();
        Assert.Equal(
        [
            "reader subscribed (erased address) to weekly-fact",
            "reader unsubscribed (erased address) from weekly-tip",
            "reader suppressed (erased address) (manual)",
            "reader unsuppressed (erased address)",
            "reader data exported (erased address)",
            "reader erased reader 1",
        ], audit.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("reader")).Select(a => $"{a.Action} {a.Target}"));
        Assert.DoesNotContain(audit, a => $"{a.Target} {a.Details}".Contains("kim@example.org", StringComparison.OrdinalIgnoreCase));

        Task<HttpResponseMessage> Post(string path, params (string Key, string Value)[] fields) =>
            client.PostAsync(path, new FormUrlEncodedContent(
                fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))
                    .Append(new KeyValuePair<string, string>("__RequestVerificationToken", token))));
    }

    [Fact]
    public async Task Adding_a_reader_checks_what_the_command_line_checks_and_a_script_in_a_name_is_shown_as_text()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/readers/add"));
        const string Script = "<script>alert(1)</script>";

        using var invalid = await Add("not-an-address", null, "weekly-tip");
        using var lineBreak = await Add("eve@example.org", "Eve\nSmith", "weekly-tip");
        using var unknown = await Add("eve@example.org", null, "weekly-nope");
        using var none = await Add("eve@example.org", null);
        using var added = await Add("Eve@Example.org", Script, "weekly-tip");
        using var again = await Add("eve@example.org", null, "weekly-fact");
        var list = await client.GetStringAsync("/admin/readers");
        var reader = await client.GetStringAsync("/admin/readers/1");

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("is not an email address", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, lineBreak.StatusCode);
        Assert.Contains("the name contains a line break", await lineBreak.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("unknown edition", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Equal("/admin/readers/1", added.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("is already on the list", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var html in new[] { list, reader })
        {
            Assert.DoesNotContain(Script, html, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        }
        await using var db = app.OpenDb();
        var eve = await db.Subscribers.Include(s => s.Subscriptions).SingleAsync();
        Assert.Equal((SubscriberStatus.Pending, Script, "weekly-tip"), (eve.Status, eve.Name, Assert.Single(eve.Subscriptions).Edition));
        Assert.Equal(["reader added eve@example.org"], await db.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("reader"))
            .Select(a => $"{a.Action} {a.Target}").ToListAsync());

        Task<HttpResponseMessage> Add(string email, string? name, params string[] editions) =>
            client.PostAsync("/admin/readers/add", new FormUrlEncodedContent(
                editions.Select(e => new KeyValuePair<string, string>("Chosen", e))
                    .Append(new("Email", email)).Append(new("Name", name ?? ""))
                    .Append(new("__RequestVerificationToken", token))));
    }

    [Fact]
    public async Task A_csv_import_reports_bad_rows_by_line_and_imports_the_rest_and_the_export_downloads_the_list()
    {
        await using var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        await using var web = app.CreateWebApp();
        using var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/readers/import"));
        const string Csv = "email,name,editions,consented_at,source\n" +
            "ana@example.org,Ana,weekly-tip,2026-01-05,shop\n" +
            "not-an-address,Bo,weekly-tip,,\n" +
            "cy@example.org,Cy,all,,\n";

        using var dryRun = await Upload("list.csv", "text/csv", Csv, dryRun: true);
        var afterDryRun = await CountAsync();
        using var imported = await Upload("list.csv", "text/csv", Csv);
        var report = await imported.Content.ReadAsStringAsync();
        using var text = await Upload("list.txt", "text/plain", Csv);
        using var justOver = await Upload("big.csv", "text/csv", new string('x', 10 * 1024 * 1024 + 1));
        using var tooLarge = await Upload("huge.csv", "text/csv", new string('x', 11 * 1024 * 1024));
        var tooLargePage = await client.GetStringAsync(tooLarge.Headers.Location!.OriginalString);
        using var export = await client.PostAsync("/admin/readers?handler=Export", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        var csv = await export.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, dryRun.StatusCode);
        Assert.Contains("would import 2", await dryRun.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, afterDryRun);
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        Assert.Contains("<li>list.csv: line 3: &#x27;not-an-address&#x27; is not an email address", report, StringComparison.Ordinal);
        Assert.Contains("3 row(s): imported 2 (1 confirmed, 1 pending without consent evidence), 0 already on the list, 1 refused.", report, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync());
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Contains("list.txt is not a CSV file", await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, justOver.StatusCode);
        Assert.Contains("big.csv is larger than 10 MB", await justOver.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, tooLarge.StatusCode);
        Assert.Contains("That file is larger than 10 MB", tooLargePage, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync());
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("email,name,editions,consented_at,source,status,created_at,confirmed_at", lines[0]);
        Assert.StartsWith("ana@example.org,Ana,weekly-tip,2026-01-05T00:00:00Z,shop,confirmed,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("cy@example.org,Cy,monthly-spotlight;weekly-fact;weekly-tip,,,pending,", lines[2], StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(["readers imported list.csv", "readers exported 2 reader(s) as CSV"],
            await db.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action.StartsWith("readers")).OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync());

        async Task<int> CountAsync()
        {
            await using var db = app.OpenDb();
            return await db.Subscribers.CountAsync();
        }

        Task<HttpResponseMessage> Upload(string name, string type, string content, bool dryRun = false)
        {
            var file = new StringContent(content);
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
            var form = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" }, { file, "file", name } };
            if (dryRun)
            {
                form.Add(new StringContent("true"), "dryRun");
            }
            return client.PostAsync("/admin/readers/import", form);
        }
    }

    private static string Link(string html, string rel) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"<a href=\"([^\"]+)\" rel=\"{rel}\"").Groups[1].Value);

    private static List<string> Rows(string html) => [.. ReaderLink().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("<a href=\"/admin/readers/\\d+\">([^<]+)</a>")]
    private static partial Regex ReaderLink();
}
