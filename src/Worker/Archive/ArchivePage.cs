using System.Text.Encodings.Web;

namespace Newsletter.Worker.Archive;

/// <summary>What a list page says about itself in its head: description and address for search engines and link previews.</summary>
public sealed record PageHead(string Title, string Description, string CanonicalUrl, string? FeedUrl = null, string? FeedTitle = null);

/// <summary>
/// The frame of the archive's list pages and its "not found" page: the public pages' look (server-rendered, no
/// scripts, readable on a phone), but meant to be found: a canonical link, a description and Open Graph tags
/// instead of <c>noindex</c>. Every text is HTML-encoded; <c>bodyHtml</c> is built from encoded parts by the callers.
/// </summary>
internal static class ArchivePage
{
    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static IResult Html(string html, int statusCode = StatusCodes.Status200OK) =>
        TypedResults.Content(html, "text/html; charset=utf-8", null, statusCode);

    /// <summary>Addresses that name no issue, page or edition: a page saying so, never an error.</summary>
    public static IResult NotFound(string newsletterName) => Html(Render(null, "Not found", """
        <h1>We couldn't find that page</h1>
        <p>The issue or page you asked for isn't in the archive. The address may have been cut short when it was copied.</p>
        <p><a href="/archive">See every past issue</a></p>
        """, newsletterName), StatusCodes.Status404NotFound);

    public static string Render(PageHead? head, string title, string bodyHtml, string newsletterName)
    {
        var meta = head is null
            ? """<meta name="robots" content="noindex">"""
            : $"""
                <meta name="description" content="{Encode(head.Description)}">
                <link rel="canonical" href="{Encode(head.CanonicalUrl)}">
                <meta property="og:type" content="website">
                <meta property="og:site_name" content="{Encode(newsletterName)}">
                <meta property="og:title" content="{Encode(head.Title)}">
                <meta property="og:description" content="{Encode(head.Description)}">
                <meta property="og:url" content="{Encode(head.CanonicalUrl)}">
                """ + (head.FeedUrl is null ? "" : $"""

                <link rel="alternate" type="application/atom+xml" title="{Encode(head.FeedTitle)}" href="{Encode(head.FeedUrl)}">
                """);
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{Encode(title)}} · {{Encode(newsletterName)}}</title>
            {{meta}}
            <style>
              :root { color-scheme: light dark; }
              body { margin: 0; font: 18px/1.6 Georgia, 'Times New Roman', serif; background: #f6f4ef; color: #1f2a2e; }
              main { max-width: 40rem; margin: 0 auto; padding: 2.5rem 1.25rem; overflow-wrap: break-word; }
              h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
              h2 { font-size: 1.2rem; line-height: 1.35; margin: 0 0 .25rem; }
              p { margin: 0 0 1rem; }
              a { color: #2f5d50; }
              a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
              .brand { font: 600 0.95rem/1.4 system-ui, sans-serif; letter-spacing: .04em; text-transform: uppercase; color: #2f5d50; margin-bottom: 1.5rem; }
              .note, .meta { font-size: .95rem; color: #4a5558; }
              .meta { font-family: system-ui, sans-serif; margin: 0 0 .35rem; }
              .issues { list-style: none; margin: 0 0 2rem; padding: 0; }
              .issues li { margin: 0 0 1.5rem; padding: 0 0 1.5rem; border-bottom: 1px solid #d8d3c8; }
              .issues p { margin: 0; }
              .pages { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 1rem; margin: 0 0 2rem; font-family: system-ui, sans-serif; }
              .cta { border-left: 4px solid #2f5d50; background: #e6efe9; padding: .75rem 1rem; margin: 0 0 1.5rem; }
              @media (prefers-color-scheme: dark) {
                body { background: #1b2124; color: #e9ece9; }
                .brand, a { color: #9fd3c0; }
                .note, .meta { color: #c2cbc8; }
                .issues li { border-color: #3a4548; }
                .cta { background: #24302c; border-color: #9fd3c0; }
              }
            </style>
            </head>
            <body>
            <main>
            <div class="brand">{{Encode(newsletterName)}}</div>
            {{bodyHtml}}
            </main>
            </body>
            </html>
            """;
    }
}
