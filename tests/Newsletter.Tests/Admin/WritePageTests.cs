using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>Writing in the browser: the form is checked as <c>issues queue</c> checks a file, each problem beside
/// its field; drafts are kept unchecked; a queued issue can be edited until a publication takes it; an issue
/// file can be uploaded; every change is audited.</summary>
public sealed class WritePageTests
{
    private static async Task<(TestApp App, TestWebApp Web, HttpClient Client)> StartAsync()
    {
        var app = TestApp.Create();
        var password = await WorkspaceEditor.AddAsync(app);
        var web = app.CreateWebApp();
        var client = await WorkspaceEditor.SignedInAsync(app, web, password);
        return (app, web, client);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string handler, params (string Key, string Value)[] fields)
    {
        var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/issues/write?edition=weekly-fact"));
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))
            .Append(new("__RequestVerificationToken", token));
        return await client.PostAsync($"{path}?handler={handler}", new FormUrlEncodedContent(form));
    }

    /// <summary>The text of the problem list beside a field (its id is f-KEY-problems).</summary>
    private static string ProblemsBeside(string html, string key)
    {
        var start = html.IndexOf($"id=\"f-{key}-problems\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no field {key} on the page");
        var end = html.IndexOf("</ul>", start, StringComparison.Ordinal);
        return WebUtility.HtmlDecode(html[start..end]);
    }

    [Fact]
    public async Task Each_problem_is_shown_beside_its_field_and_nothing_is_queued()
    {
        var (app, web, client) = await StartAsync();
        await using var _ = app;
        await using var __ = web;
        using var ___ = client;

        using var response = await PostAsync(client, "/admin/issues/write", "Queue",
            ("Form.Edition", "weekly-fact"), ("Form.Subject", ""), ("Form.SendOn", "2026-02-30"),
            ("Form.Sources", "NIMH | nimh.nih.gov/health"), ("Form.Body", "## The fact\n\nSee [this](/relative)."));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'subject' is empty", ProblemsBeside(html, "subject"), StringComparison.Ordinal);
        Assert.Contains("not a date", ProblemsBeside(html, "send_on"), StringComparison.Ordinal);
        Assert.Contains("source link is not absolute: 'nimh.nih.gov/health'", ProblemsBeside(html, "sources"), StringComparison.Ordinal);
        Assert.Contains("/relative", ProblemsBeside(html, "body"), StringComparison.Ordinal);
        Assert.Equal("", ProblemsBeside(html, "preheader").Split('>', 2)[1].Trim());
        // What the editor typed is kept for them to fix.
        Assert.Contains("NIMH | nimh.nih.gov/health", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Issues.CountAsync());
        Assert.Equal(0, await db.AuditLog.CountAsync(a => a.Actor == WorkspaceEditor.Email && a.Action.Contains("issue")));
    }

    [Fact]
    public async Task A_draft_is_kept_unchecked_then_queued_at_the_end_and_a_queued_issue_is_edited_in_its_place_until_it_is_published()
    {
        var (app, web, client) = await StartAsync();
        await using var _ = app;
        await using var __ = web;
        using var ___ = client;
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("first.md", TestData.TipIssue("Already queued")));

        using var draft = await PostAsync(client, "/admin/issues/write", "Draft",
            ("Form.Edition", "weekly-tip"), ("Form.Subject", "Half written"), ("Form.Tip", "Breathe out longer than in."));
        Assert.Equal(HttpStatusCode.Redirect, draft.StatusCode);
        Assert.Equal("/admin/issues/write/2?saved=draft", draft.Headers.Location!.OriginalString);
        var draftPage = await client.GetStringAsync("/admin/issues/write/2?saved=draft");
        Assert.Contains("Draft saved", draftPage, StringComparison.Ordinal);
        Assert.Contains("Breathe out longer than in.", draftPage, StringComparison.Ordinal);
        Assert.DoesNotContain("Half written", await client.GetStringAsync("/admin/queue"), StringComparison.Ordinal);

        // Finishing the draft queues it behind the issue queued before it.
        using var queued = await PostAsync(client, "/admin/issues/write/2", "Queue",
            ("Form.Edition", "weekly-tip"), ("Form.Subject", "Half written, now whole"), ("Form.Tip", "Breathe out longer than in."),
            ("Form.Body", "## Try this\n\nBreathe in for four, out for six."));
        Assert.Equal(HttpStatusCode.Redirect, queued.StatusCode);
        Assert.Equal("/admin/queue?queued=2", queued.Headers.Location!.OriginalString);
        var list = await app.RunCliOkAsync("issues", "list");
        Assert.True(list.Out.IndexOf("Already queued", StringComparison.Ordinal) < list.Out.IndexOf("Half written, now whole", StringComparison.Ordinal), list.Out);

        // Editing the first queued issue keeps its place.
        using var edited = await PostAsync(client, "/admin/issues/write/1", "Queue",
            ("Form.Edition", "weekly-tip"), ("Form.Subject", "Already queued, reworded"), ("Form.Body", "## Try this\n\nOne kind thing."));
        Assert.Equal("/admin/issues/write/1?saved=queued", edited.Headers.Location!.OriginalString);
        list = await app.RunCliOkAsync("issues", "list");
        Assert.True(list.Out.IndexOf("Already queued, reworded", StringComparison.Ordinal) < list.Out.IndexOf("Half written, now whole", StringComparison.Ordinal), list.Out);

        // Once published, the issue cannot be changed from a page opened before.
        await app.RunCliOkAsync("issues", "send-now", "1");
        Assert.Contains("href=\"/admin/issues/1/results\"", await client.GetStringAsync("/admin/issues"), StringComparison.Ordinal);
        using var late = await PostAsync(client, "/admin/issues/write/1", "Queue",
            ("Form.Edition", "weekly-tip"), ("Form.Subject", "Too late"), ("Form.Body", "## Try this\n\nToo late."));
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Contains("can no longer be changed", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var db = app.OpenDb();
        Assert.Equal("Already queued, reworded", (await db.Issues.SingleAsync(i => i.Id == 1)).Subject);
        Assert.Equal(["draft created issue 2", "issue queued issue 2", "issue edited issue 1"],
            await db.AuditLog.Where(a => a.Actor == WorkspaceEditor.Email && a.Action != "signed in").OrderBy(a => a.Id).Select(a => $"{a.Action} {a.Target}").ToListAsync());
    }

    [Fact]
    public async Task An_uploaded_issue_file_fills_the_form_and_a_bad_one_is_reported_by_line()
    {
        var (app, web, client) = await StartAsync();
        await using var _ = app;
        await using var __ = web;
        using var ___ = client;

        using var good = await UploadAsync("sleep.md", await File.ReadAllTextAsync(TestData.SampleIssuePath("weekly-fact")));
        var goodHtml = WebUtility.HtmlDecode(await good.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Contains("Read sleep.md", goodHtml, StringComparison.Ordinal);
        Assert.Contains("value=\"Fact of the Week: sleep and mood talk to each other\"", goodHtml, StringComparison.Ordinal);
        Assert.Contains("National Institute of Mental Health, \"Sleep and mental health\" | https://www.nimh.nih.gov/health/topics", goodHtml, StringComparison.Ordinal);

        using var bad = await UploadAsync("bad.md", "---\nedition: weekly-fact\nsubject: Hi\nsend_on: soon\n---\nBody.\n");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("bad.md:4: send_on &#x27;soon&#x27; is not a date", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var wrongType = await UploadAsync("photo.png", "not an issue");
        Assert.Contains("an issue file is Markdown with front matter, named .md", WebUtility.HtmlDecode(await wrongType.Content.ReadAsStringAsync()), StringComparison.Ordinal);

        using var tooBig = await UploadAsync("long.md", "---\n" + new string('x', 300 * 1024));
        Assert.NotEqual(HttpStatusCode.OK, tooBig.StatusCode);

        await using var db = app.OpenDb();
        Assert.Equal(0, await db.Issues.CountAsync());

        async Task<HttpResponseMessage> UploadAsync(string name, string text)
        {
            var token = WorkspaceEditor.Token(await client.GetStringAsync("/admin/issues/write"));
            using var content = new MultipartFormDataContent();
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            content.Add(file, "file", name);
            content.Add(new StringContent(token), "__RequestVerificationToken");
            return await client.PostAsync("/admin/issues/write?handler=Upload", content);
        }
    }

    [Fact]
    public async Task A_subject_or_body_with_a_script_tag_is_shown_escaped_on_every_issue_page()
    {
        var (app, web, client) = await StartAsync();
        await using var _ = app;
        await using var __ = web;
        using var ___ = client;
        const string Script = "<script>alert(1)</script>";
        await app.RunCliOkAsync("issues", "queue", app.WriteFile("x.md", TestData.TipIssue($"Tips {Script}")));
        using var draft = await PostAsync(client, "/admin/issues/write", "Draft",
            ("Form.Edition", "weekly-tip"), ("Form.Subject", Script), ("Form.Tip", Script), ("Form.Body", Script));
        Assert.Equal(HttpStatusCode.Redirect, draft.StatusCode);

        foreach (var path in new[] { "/admin/issues", "/admin/queue", "/admin/plan", "/admin/issues/write/1", "/admin/issues/write/2", "/admin/issues/1/preview", "/admin/issues/1/send", "/admin" })
        {
            var html = await client.GetStringAsync(path);
            Assert.DoesNotContain(Script, html, StringComparison.Ordinal);
        }
        Assert.Contains("Tips &lt;script&gt;alert(1)&lt;/script&gt;", await client.GetStringAsync("/admin/issues"), StringComparison.Ordinal);
    }
}
