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

    /// <summary>The list of problems at the top of a form, focused on load so screen readers announce it;
    /// each links to its field. Empty when there are none.</summary>
    public static string ErrorSummary(IReadOnlyDictionary<string, string> errors, Func<string, string> fieldId)
    {
        if (errors.Count == 0)
        {
            return "";
        }
        var items = string.Concat(errors.Select(e => $"<li><a href=\"#{Encode(fieldId(e.Key))}\">{Encode(e.Value)}</a></li>"));
        return $$"""
            <div class="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title">
              <h2 id="error-summary-title">Something needs another look</h2>
              <ul>{{items}}</ul>
            </div>
            """;
    }

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
          main { max-width: 34rem; margin: 0 auto; padding: 2.5rem 1.25rem; overflow-wrap: break-word; }
          .address { overflow-wrap: anywhere; }
          h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
          p { margin: 0 0 1rem; }
          .brand { font: 600 0.95rem/1.4 system-ui, sans-serif; letter-spacing: .04em; text-transform: uppercase; color: #2f5d50; margin-bottom: 1.5rem; }
          button { font: 600 1rem system-ui, sans-serif; padding: .75rem 1.25rem; border-radius: .5rem; border: 2px solid #2f5d50; background: #2f5d50; color: #fff; cursor: pointer; }
          button.secondary { background: transparent; color: #2f5d50; }
          button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
          a { color: #2f5d50; }
          .note { font-size: .95rem; color: #4a5558; }
          h2 { font-size: 1.25rem; line-height: 1.3; margin: 2rem 0 .75rem; }
          form { margin: 0 0 1.5rem; }
          .field, fieldset { margin: 0 0 1.4rem; }
          fieldset { border: 0; padding: 0; min-width: 0; }
          label, legend { display: block; font: 600 1rem/1.4 system-ui, sans-serif; margin: 0 0 .35rem; padding: 0; }
          .optional { font-weight: 400; color: #4a5558; }
          .hint { display: block; font: .95rem/1.45 system-ui, sans-serif; color: #4a5558; margin: 0 0 .4rem; }
          input[type=email], input[type=text], select { box-sizing: border-box; width: 100%; font: 1rem/1.4 system-ui, sans-serif; padding: .7rem .8rem;
            border: 2px solid #5b6b70; border-radius: .4rem; background: #fff; color: #1f2a2e; }
          .choice { display: flex; gap: .7rem; align-items: flex-start; margin: .6rem 0; }
          .choice input { flex: none; width: 1.4rem; height: 1.4rem; margin: .15rem 0 0; accent-color: #2f5d50; }
          .choice label { font-weight: 400; margin: 0; }
          .choice .hint { margin: 0; }
          input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
          .field-error { font: 600 .95rem/1.4 system-ui, sans-serif; color: #a12622; margin: 0 0 .4rem; }
          input[aria-invalid=true] { border-color: #a12622; }
          .error-summary { border: 3px solid #a12622; border-radius: .5rem; padding: 1rem 1.25rem; margin: 0 0 1.5rem; background: #fff; }
          .error-summary h2 { margin: 0 0 .5rem; font-size: 1.15rem; }
          .error-summary ul { margin: 0; padding-left: 1.2rem; }
          .error-summary a { color: #a12622; font-weight: 600; }
          .error-summary:focus { outline: 3px solid #b35c00; outline-offset: 2px; }
          .status { border-left: 4px solid #2f5d50; background: #e6efe9; padding: .75rem 1rem; margin: 0 0 1.5rem; }
          .actions { display: flex; flex-wrap: wrap; gap: .75rem; margin: 0 0 1rem; }
          .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
          /* The honeypot: off-screen for people and screen readers, there for form-filling bots. */
          .hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
          @media (prefers-color-scheme: dark) {
            body { background: #1b2124; color: #e9ece9; }
            .brand, a { color: #9fd3c0; }
            button { background: #9fd3c0; border-color: #9fd3c0; color: #10211b; }
            button.secondary { background: transparent; color: #9fd3c0; }
            .note, .hint, .optional { color: #c2cbc8; }
            input[type=email], input[type=text], select { background: #11181a; color: #e9ece9; border-color: #8a9a9e; }
            .field-error, .error-summary a { color: #ffaba5; }
            input[aria-invalid=true], .error-summary { border-color: #ffaba5; }
            .error-summary { background: #11181a; }
            .status { background: #24302c; border-color: #9fd3c0; }
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
