using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Newsletter.Worker.Http;

/// <summary>
/// The public pages' shared frame: server-rendered, no scripts or third-party assets, readable on
/// a phone, with visible focus and enough contrast. Everything passed as text is HTML-encoded;
/// <c>bodyHtml</c> arguments are built from encoded parts by the callers.
/// </summary>
public static class Page
{
    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static ContentHttpResult Html(string title, string bodyHtml, string newsletterName, int statusCode = 200) =>
        TypedResults.Content(Render(title, bodyHtml, newsletterName), "text/html; charset=utf-8", null, statusCode);

    public static string Render(string title, string bodyHtml, string newsletterName) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>{{Encode(title)}} · {{Encode(newsletterName)}}</title>
        <style>
          :root { color-scheme: light dark; }
          body { margin: 0; font: 18px/1.6 Georgia, 'Times New Roman', serif; background: #f6f4ef; color: #1f2a2e; }
          main { max-width: 34rem; margin: 0 auto; padding: 2.5rem 1.25rem; }
          h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
          p { margin: 0 0 1rem; }
          .brand { font: 600 0.95rem/1.4 system-ui, sans-serif; letter-spacing: .04em; text-transform: uppercase; color: #2f5d50; margin-bottom: 1.5rem; }
          button { font: 600 1rem system-ui, sans-serif; padding: .75rem 1.25rem; border-radius: .5rem; border: 2px solid #2f5d50; background: #2f5d50; color: #fff; cursor: pointer; }
          button.secondary { background: transparent; color: #2f5d50; }
          button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
          a { color: #2f5d50; }
          .note { font-size: .95rem; color: #4a5558; }
          @media (prefers-color-scheme: dark) {
            body { background: #1b2124; color: #e9ece9; }
            .brand, a { color: #9fd3c0; }
            button { background: #9fd3c0; border-color: #9fd3c0; color: #10211b; }
            button.secondary { background: transparent; color: #9fd3c0; }
            .note { color: #c2cbc8; }
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
