using System.Globalization;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Links;
using Newsletter.Worker.SignupEmails;

namespace Newsletter.Worker.Http;

/// <summary>
/// The unsubscribe link in every email. GET only shows a page (link scanners prefetch links, so
/// GET must never change anything). POST unsubscribes: it is the page's buttons and also Gmail's
/// and Apple Mail's one-click request (RFC 8058), so it takes no cookies, antiforgery token or
/// login, accepts both form encodings, answers 200 without a redirect, and is harmless to repeat.
/// A POST without <c>scope=all</c> — the one-click request included — leaves only the link's edition;
/// <c>scope=all</c> (the page's second button) leaves every edition. A link from an email names its
/// publication (<c>?p=</c>), kept by the page's form, so that results count the leaving.
/// The page also offers a pause of every email instead (<c>/pause</c>, <c>/resume</c>, same token).
/// </summary>
public static class UnsubscribeEndpoints
{
    public const string ScopeField = "scope";
    public const string ScopeAll = "all";

    public static IEndpointRouteBuilder MapUnsubscribe(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/unsubscribe").NoStore();
        group.MapGet("/{token}", Show).RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}", Unsubscribe).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/pause", Pause).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/resume", Resume).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        return app;
    }

    private static async Task<IResult> Show(
        string token, HttpRequest request, SubscriberLinks links, SubscriptionService service,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        if (await service.ResolveAsync(token, TokenPurpose.Unsubscribe, cancellationToken) is not { } reader
            || !editions.Value.TryGet(reader.Token.Edition, out var edition))
        {
            return BadLink(name);
        }
        var (_, pausedUntil) = await service.PauseOfAsync(reader.SubscriberId, cancellationToken);
        var display = Page.Encode(edition.DisplayName);
        var body = $"""
            <h1>Unsubscribe from {display}?</h1>
            <p>You can stop just {display}, or every edition we send you.</p>
            <form method="post" action="/unsubscribe/{Page.Encode(token)}{PublicationQuery(PublicationOf(request))}">
              <input type="hidden" name="List-Unsubscribe" value="One-Click">
              <div class="actions">
                <button type="submit" name="{ScopeField}" value="edition">Unsubscribe from {display} only</button>
                <button type="submit" name="{ScopeField}" value="{ScopeAll}" class="secondary">Unsubscribe from all editions</button>
              </div>
            </form>
            {(reader.Revoked ? RevokedNote : $"""
            <p class="note">Would you rather get fewer emails? <a href="{Page.Encode(links.PreferencesPath(reader.LinkKey))}">Choose which editions you get</a>. Changed your mind? Just close this page; nothing has changed.</p>
            {ReaderChoices.PauseSection($"/unsubscribe/{token}", pausedUntil)}
            """)}
            """;
        return Page.Html($"Unsubscribe from {edition.DisplayName}", body, name);
    }

    private static async Task<IResult> Pause(
        string token, HttpRequest request, SubscriptionService service, SubscriberLinks links,
        IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        // A link from before the reader revoked their links only unsubscribes.
        if (await service.ResolveAsync(token, TokenPurpose.Unsubscribe, cancellationToken) is not { Revoked: false } reader)
        {
            return BadLink(name);
        }
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        if (ReaderChoices.PauseChoice(body) is not { } length)
        {
            return ReaderChoices.BadPauseChoice(body.IsJson, name);
        }
        if (await service.PauseAsync(reader.SubscriberId, length, cancellationToken) is not { } until)
        {
            return BadLink(name);
        }
        return Page.Html("Your emails are paused", $"""
            <h1>Your emails are paused</h1>
            <p class="status" id="paused">We won't send you anything until {Page.Encode(ReaderChoices.Date(until))}. After that your editions start again by themselves, and we won't email you about it.</p>
            <p>Rest well. We'll be here when you're ready.</p>
            <form method="post" action="/unsubscribe/{Page.Encode(token)}/resume">
              <button type="submit" class="secondary">Resume my emails now</button>
            </form>
            <p class="note"><a href="{Page.Encode(links.PreferencesPath(reader.LinkKey))}">See or change your editions</a>.</p>
            """, name);
    }

    private static async Task<IResult> Resume(
        string token, HttpRequest request, SubscriptionService service, SubscriberLinks links,
        IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        if (await service.ResolveAsync(token, TokenPurpose.Unsubscribe, cancellationToken) is not { Revoked: false } reader)
        {
            return BadLink(name);
        }
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        if (!await service.ResumeAsync(reader.SubscriberId, cancellationToken))
        {
            return BadLink(name);
        }
        return Page.Html("Your emails are back on", $"""
            <h1>Your emails are back on</h1>
            <p>Welcome back. Your editions start again with the next issue.</p>
            <p class="note"><a href="{Page.Encode(links.PreferencesPath(reader.LinkKey))}">See or change your editions</a>.</p>
            """, name);
    }

    private static async Task<IResult> Unsubscribe(
        string token, HttpRequest request, SubscriberList list, SubscriptionService service, SubscriberLinks links,
        NewsletterDbContext db, TimeProvider time, IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter,
        CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        // One-click unsubscribing works for the life of an email, even after the reader revoked their links.
        if (await service.ResolveAsync(token, TokenPurpose.Unsubscribe, cancellationToken) is not { } reader
            || !editions.Value.TryGet(reader.Token.Edition, out var edition))
        {
            return BadLink(name);
        }
        var link = reader.Token;
        // RFC 8058 asks for nothing but List-Unsubscribe=One-Click in the body; it is read (either
        // encoding, within the size limit) for the scope and so a malformed body is refused, not ignored.
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        // A body in some other format is ignored rather than refused: leaving must always work.
        if (body.Problem is BodyProblem.TooLarge or BodyProblem.Malformed)
        {
            return PublicAnswers.BadBody(body, name);
        }
        var all = string.Equals(body.Get(ScopeField), ScopeAll, StringComparison.Ordinal);
        var changed = all
            ? await service.UnsubscribeAllAsync(reader.SubscriberId, cancellationToken)
            : await list.UnsubscribeAsync(reader.SubscriberId, link.Edition, cancellationToken);
        if (changed && PublicationOf(request) is { } publicationId)
        {
            // p is unsigned on purpose: the update matches only this (verified) reader's own delivery of it.
            await PublicationResults.RecordUnsubscribeAsync(
                db, publicationId, reader.SubscriberId, link.Edition, time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        if (all)
        {
            return PreferencesEndpoints.UnsubscribedEverywhere(name, reader.Revoked ? null : links.PreferencesToken(reader.LinkKey));
        }
        var display = Page.Encode(edition.DisplayName);
        return Page.Html("Unsubscribed", $"""
            <h1>You're unsubscribed from {display}</h1>
            <p>You won't get {display} emails any more. Thank you for reading it while you did.</p>
            <p class="note">Other editions you chose are not affected.{(reader.Revoked ? "" : $" <a href=\"{Page.Encode(links.PreferencesPath(reader.LinkKey))}\">See or change your editions</a>.")}</p>
            """, name);
    }

    /// <summary>The publication the link came in; an old link without one, or a mangled value, still unsubscribes.</summary>
    private static int? PublicationOf(HttpRequest request) =>
        int.TryParse(request.Query[LinkBuilder.PublicationQuery], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    private static string PublicationQuery(int? publicationId) =>
        publicationId is { } id ? string.Create(CultureInfo.InvariantCulture, $"?{LinkBuilder.PublicationQuery}={id}") : "";

    private const string RevokedNote = """
        <p class="note">This link is older than the last time your links were revoked, so it can only unsubscribe. The links in your next email do everything else.</p>
        """;

    private static IResult BadLink(string name) => Page.Html(
        "This link does not work",
        """
        <h1>This link does not work</h1>
        <p>It may have been cut short when it was copied. Please use the unsubscribe link at the bottom of the newsletter email, or reply to the email and we'll take care of it.</p>
        """, name, 400);
}
