using System.Net;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Editions;

namespace Newsletter.Tests.Archive;

/// <summary>The archive's pages and feed over HTTP through the real app, on issues written to a real database.</summary>
public sealed class ArchivePagesTests
{
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";

    [Fact]
    public async Task An_editions_list_shows_its_issues_newest_first_twenty_a_page_and_a_page_past_the_end_is_not_found()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        for (var day = 0; day < 23; day++)
        {
            await ArchiveData.PublishedAsync(app, "weekly-tip", $"Tip number {day}", day * 7, preheader: $"Preheader of tip {day}");
        }
        await ArchiveData.PublishedAsync(app, "weekly-fact", "A fact about sleep", 3);
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();

        using var first = await client.GetAsync("/archive/weekly-tip");
        var firstHtml = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("public, max-age=300", first.Headers.CacheControl?.ToString());
        var firstTitles = Titles(firstHtml);
        Assert.Equal(Enumerable.Range(3, 20).Reverse().Select(n => $"Tip number {n}"), firstTitles);
        Assert.Contains("Preheader of tip 22", firstHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("A fact about sleep", firstHtml, StringComparison.Ordinal);
        Assert.Contains("""<link rel="canonical" href="https://news.example.org/archive/weekly-tip">""", firstHtml, StringComparison.Ordinal);
        Assert.Contains("""href="/archive/weekly-tip?page=2">Older issues""", firstHtml, StringComparison.Ordinal);
        Assert.Contains("""href="https://news.example.org/archive/weekly-tip/feed.xml""", firstHtml, StringComparison.Ordinal);

        using var second = await client.GetAsync("/archive/weekly-tip?page=2");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(["Tip number 2", "Tip number 1", "Tip number 0"], Titles(await second.Content.ReadAsStringAsync()));

        foreach (var beyond in new[] { "?page=3", "?page=0", "?page=-1", "?page=two", "?page=1&page=2", "?page=99999999999" })
        {
            using var response = await client.GetAsync("/archive/weekly-tip" + beyond);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{beyond}: {response.StatusCode}");
            Assert.Contains("We couldn't find that page", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var all = await client.GetAsync("/archive");
        var allHtml = await all.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal(Enumerable.Range(3, 20).Reverse().Select(n => $"Tip number {n}"), Titles(allHtml));
        using var allSecond = await client.GetAsync("/archive?page=2");
        Assert.Equal(["Tip number 2", "Tip number 1", "A fact about sleep", "Tip number 0"], Titles(await allSecond.Content.ReadAsStringAsync()));

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/archive/weekly-tip"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task An_issue_page_shows_the_issue_with_a_call_to_sign_up_canonical_and_open_graph_tags_and_no_personal_link()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var issue = await ArchiveData.PublishedAsync(app, "weekly-tip", "Tip of the Week: breathe out slowly", 0, preheader: "A longer breath out tells your body it is safe.");
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();
        var path = $"/archive/weekly-tip/{issue.ArchiveKey}";
        Assert.Equal("/archive/weekly-tip/2026-01-05-tip-of-the-week-breathe-out-slowly", path);

        using var response = await client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        Assert.Contains("Issue number 0: breathe out slowly, <strong>twice</strong>.", html, StringComparison.Ordinal);
        Assert.Contains($"""<link rel="canonical" href="https://news.example.org{path}">""", html, StringComparison.Ordinal);
        Assert.Contains($"""<meta property="og:url" content="https://news.example.org{path}">""", html, StringComparison.Ordinal);
        Assert.Contains("""<meta property="og:type" content="article">""", html, StringComparison.Ordinal);
        Assert.Contains("""<meta property="og:title" content="Tip of the Week: breathe out slowly">""", html, StringComparison.Ordinal);
        Assert.Contains("""<meta property="og:description" content="A longer breath out tells your body it is safe.">""", html, StringComparison.Ordinal);
        Assert.Contains("""<meta name="description" content="A longer breath out tells your body it is safe.">""", html, StringComparison.Ordinal);
        Assert.DoesNotContain("noindex", html, StringComparison.Ordinal);
        Assert.Matches("""<a href="/subscribe"[^>]*>Subscribe to Tip of the Week</a>""", html);
        Assert.Matches("""<a href="/archive/weekly-tip"[^>]*>All issues of Tip of the Week</a>""", html);
        Assert.Contains("Hi there,", html, StringComparison.Ordinal);
        Assert.Contains("If you are in crisis", html, StringComparison.Ordinal);
        // Nobody's links: no unsubscribe, no preferences, and no "view it on the web" on the web itself.
        Assert.DoesNotContain("/unsubscribe", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/preferences", html, StringComparison.Ordinal);
        Assert.DoesNotContain("[[nl:", html, StringComparison.Ordinal);
        Assert.DoesNotContain("View it on the web", html, StringComparison.Ordinal);

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Theory]
    [InlineData("/archive/weekly-nope")]
    [InlineData("/archive/weekly-nope/feed.xml")]
    [InlineData("/archive/weekly-nope/2026-01-05-tip-of-the-week")]
    [InlineData("/archive/weekly-tip/2026-01-06-tip-of-the-week")]
    [InlineData("/archive/weekly-tip/2026-01-05-another-slug")]
    [InlineData("/archive/weekly-tip/2026-13-45-tip-of-the-week")]
    [InlineData("/archive/weekly-tip/2026-02-30-tip-of-the-week")]
    [InlineData("/archive/weekly-tip/not-a-date")]
    [InlineData("/archive/weekly-tip/2026-01-05-TIP-OF-THE-WEEK")]
    [InlineData("/archive/weekly-tip/2026-01-05-%3Cscript%3E")]
    [InlineData("/archive/Weekly-Tip")]
    [InlineData("/view/nonsense")]
    [InlineData("/view/a.b")]
    public async Task Addresses_that_name_nothing_are_a_not_found_page_never_an_error(string path)
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await ArchiveData.PublishedAsync(app, "weekly-tip", "Tip of the Week", 0);
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("We couldn't find that page", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_issue_kept_out_of_the_archive_is_in_no_list_or_feed_but_its_signed_link_opens_it_and_an_altered_one_does_not()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var shown = await ArchiveData.PublishedAsync(app, "weekly-tip", "A tip for everyone", 0);
        var hidden = await ArchiveData.PublishedAsync(app, "weekly-tip", "A tip for subscribers only", 7, inArchive: false);
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();
        var signer = web.Services.GetRequiredService<LinkTokenSigner>();

        foreach (var list in new[] { "/archive", "/archive/weekly-tip", "/archive/weekly-tip/feed.xml" })
        {
            var text = await client.GetStringAsync(list);
            Assert.Contains("A tip for everyone", text, StringComparison.Ordinal);
            Assert.DoesNotContain("subscribers only", text, StringComparison.Ordinal);
        }
        using (var wouldBe = await client.GetAsync($"/archive/weekly-tip/{hidden.ArchiveKey}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, wouldBe.StatusCode);
        }

        var token = EditionEmailFactory.WebViewToken(signer, hidden);
        using (var view = await client.GetAsync($"/view/{token}"))
        {
            var html = await view.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
            Assert.Contains("Issue number 7", html, StringComparison.Ordinal);
            Assert.Contains("""<meta name="robots" content="noindex">""", html, StringComparison.Ordinal);
            Assert.DoesNotContain("canonical", html, StringComparison.Ordinal);
            Assert.DoesNotContain("/subscribe", html, StringComparison.Ordinal);
            Assert.DoesNotContain("/unsubscribe", html, StringComparison.Ordinal);
        }

        // Altered, forged, for another issue's edition, or a token made for something else: nothing.
        var altered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        var forgedPayload = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"v1|4|{shown.Id}|weekly-tip|0"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_') + token[token.IndexOf('.', StringComparison.Ordinal)..];
        var otherEdition = signer.Sign(new LinkToken(TokenPurpose.WebView, hidden.Id, "weekly-fact"));
        var unsubscribe = signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, hidden.Id, "weekly-tip"));
        var unpublished = signer.Sign(new LinkToken(TokenPurpose.WebView, hidden.Id + 100, "weekly-tip"));
        foreach (var bad in new[] { altered, forgedPayload, otherEdition, unsubscribe, unpublished, token + "x" })
        {
            using var response = await client.GetAsync($"/view/{bad}");
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"/view/{bad}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task Every_field_is_escaped_in_the_pages_and_the_feed()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        const string subject = "<script>alert('x')</script> & \"friends\"";
        const string preheader = "<img src=x onerror=alert(1)> & more";
        var issue = await ArchiveData.PublishedAsync(app, "weekly-tip", subject, 0, preheader);
        Assert.Equal("2026-01-05-script-alert-x-script-friends", issue.ArchiveKey);
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();

        foreach (var path in new[] { "/archive", "/archive/weekly-tip", $"/archive/weekly-tip/{issue.ArchiveKey}" })
        {
            var html = await client.GetStringAsync(path);
            // Inside a quoted attribute value a '<' is plain text (the HTML serializer leaves it); anywhere else it must be encoded.
            var outsideAttributes = Regex.Replace(html, "=\"[^\"]*\"", "=\"\"");
            Assert.DoesNotContain("<script", outsideAttributes, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img src=x", outsideAttributes, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(", html, StringComparison.Ordinal);
        }

        var feed = XDocument.Parse(await client.GetStringAsync("/archive/weekly-tip/feed.xml"));
        var entry = Assert.Single(feed.Root!.Elements(Atom + "entry"));
        Assert.Equal(subject, entry.Element(Atom + "title")!.Value);
        Assert.Equal(preheader, entry.Element(Atom + "summary")!.Value);
    }

    [Fact]
    public async Task The_feed_is_atom_with_the_required_elements_and_the_newest_twenty_issues()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        for (var day = 0; day < 22; day++)
        {
            await ArchiveData.PublishedAsync(app, "weekly-fact", $"Fact number {day}", day, preheader: $"Why fact {day} matters");
        }
        await ArchiveData.PublishedAsync(app, "weekly-tip", "Not a fact", 30);
        await using var web = app.CreateWebApp();
        using var client = web.CreateNoRedirectClient();

        using var response = await client.GetAsync("/archive/weekly-fact/feed.xml");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/atom+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        var feed = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;

        Assert.Equal(Atom + "feed", feed.Name);
        Assert.Equal("https://news.example.org/archive/weekly-fact", feed.Element(Atom + "id")?.Value);
        Assert.Equal("Fact of the Week · Steady Ground", feed.Element(Atom + "title")?.Value);
        Assert.Equal(DateTime.Parse("2026-01-26T14:00:00Z", null, System.Globalization.DateTimeStyles.AdjustToUniversal),
            DateTime.Parse(feed.Element(Atom + "updated")!.Value, null, System.Globalization.DateTimeStyles.AdjustToUniversal));
        Assert.Equal("Steady Ground", feed.Element(Atom + "author")?.Element(Atom + "name")?.Value);
        var links = feed.Elements(Atom + "link").ToDictionary(l => (string)l.Attribute("rel")!, l => (string)l.Attribute("href")!);
        Assert.Equal("https://news.example.org/archive/weekly-fact/feed.xml", links["self"]);
        Assert.Equal("https://news.example.org/archive/weekly-fact", links["alternate"]);

        var entries = feed.Elements(Atom + "entry").ToList();
        Assert.Equal(20, entries.Count);
        Assert.Equal("Fact number 21", entries[0].Element(Atom + "title")?.Value);
        Assert.Equal("Fact number 2", entries[^1].Element(Atom + "title")?.Value);
        foreach (var entry in entries)
        {
            var id = entry.Element(Atom + "id")?.Value;
            Assert.StartsWith("https://news.example.org/archive/weekly-fact/2026-01-", id, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(entry.Element(Atom + "title")?.Value));
            Assert.True(DateTime.TryParse(entry.Element(Atom + "updated")?.Value, out _));
            Assert.Equal(id, (string?)entry.Element(Atom + "link")?.Attribute("href"));
            Assert.StartsWith("Why fact ", entry.Element(Atom + "summary")?.Value, StringComparison.Ordinal);
        }

        // Each entry's address is a working page.
        using var page = await client.GetAsync(new Uri(entries[0].Element(Atom + "id")!.Value).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    private static List<string> Titles(string html) =>
        Regex.Matches(html, """<h2><a href="/archive/[^"]+">([^<]+)</a></h2>""").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
}
