using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Http;

/// <summary>
/// The unsubscribe link in every email. GET only shows a page (link scanners prefetch links, so
/// GET must never change anything). POST unsubscribes: it is the page's button and also Gmail's
/// and Apple Mail's one-click request (RFC 8058), so it takes no cookies, antiforgery token or
/// login, accepts both form encodings, answers 200 without a redirect, and is harmless to repeat.
/// </summary>
public static class UnsubscribeEndpoints
{
    public static IEndpointRouteBuilder MapUnsubscribe(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/unsubscribe");
        group.MapGet("/{token}", Show);
        group.MapPost("/{token}", Unsubscribe).DisableAntiforgery();
        return app;
    }

    private static ContentHttpResult Show(
        string token, LinkTokenSigner signer, IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter)
    {
        var name = newsletter.Value.Name;
        if (!signer.TryVerify(token, TokenPurpose.Unsubscribe, out var link) || !editions.Value.TryGet(link.Edition, out var edition))
        {
            return BadLink(name);
        }
        var body = $"""
            <h1>Unsubscribe from {Page.Encode(edition.DisplayName)}?</h1>
            <p>You will stop getting {Page.Encode(edition.DisplayName)} emails. Any other editions you chose keep coming.</p>
            <form method="post" action="/unsubscribe/{Page.Encode(token)}">
              <input type="hidden" name="List-Unsubscribe" value="One-Click">
              <button type="submit">Unsubscribe</button>
            </form>
            <p class="note">Changed your mind? Just close this page; nothing has changed.</p>
            """;
        return Page.Html($"Unsubscribe from {edition.DisplayName}", body, name);
    }

    private static async Task<ContentHttpResult> Unsubscribe(
        string token, HttpRequest request, LinkTokenSigner signer, SubscriberList list,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        if (!signer.TryVerify(token, TokenPurpose.Unsubscribe, out var link) || !editions.Value.TryGet(link.Edition, out var edition))
        {
            return BadLink(name);
        }
        // The body is not required to say anything more than RFC 8058's List-Unsubscribe=One-Click;
        // it is read (either encoding) only so a malformed body is refused rather than ignored.
        if (request.HasFormContentType)
        {
            try
            {
                await request.ReadFormAsync(cancellationToken);
            }
            catch (InvalidDataException)
            {
                return Page.Html("That request could not be read", "<h1>That request could not be read</h1><p>Please try the link in your email again.</p>", name, 400);
            }
        }
        await list.UnsubscribeAsync(link.SubscriberId, link.Edition, cancellationToken);
        var body = $"""
            <h1>You're unsubscribed from {Page.Encode(edition.DisplayName)}</h1>
            <p>You won't get {Page.Encode(edition.DisplayName)} emails any more. Thank you for reading it while you did.</p>
            <p class="note">Other editions you chose are not affected.</p>
            """;
        return Page.Html("Unsubscribed", body, name);
    }

    private static ContentHttpResult BadLink(string name) => Page.Html(
        "This link does not work",
        """
        <h1>This link does not work</h1>
        <p>It may have been cut short when it was copied. Please use the unsubscribe link at the bottom of the newsletter email, or reply to the email and we'll take care of it.</p>
        """, name, 400);
}
