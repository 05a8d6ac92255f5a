using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.SignupEmails;

namespace Newsletter.Worker.Http;

/// <summary>
/// The link in the confirmation email. GET only shows a page with a button (link scanners open
/// links, and must not confirm anyone); the button POSTs. Confirming twice is harmless. An expired
/// link's page offers a new one (<c>POST /confirm/{token}/resend</c>), which is rate-limited like a sign-up.
/// </summary>
public static class ConfirmEndpoints
{
    public static IEndpointRouteBuilder MapConfirm(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/confirm").NoStore();
        group.MapGet("/{token}", Show).RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}", Confirm).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/resend", Resend).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Subscribe);
        return app;
    }

    private static async Task<IResult> Show(
        string token, HttpRequest request, SubscriptionService service, SubscriberLinks links,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var view = await service.InspectConfirmationAsync(token, cancellationToken);
        var name = newsletter.Value.Name;
        return view.State switch
        {
            ConfirmState.Pending => Page.Html("Confirm your subscription", $"""
                <h1>One last step</h1>
                <p>You asked for {Page.Encode(Names(view.PendingEditions, editions.Value))}. Press the button to confirm, and your first email will come with the next edition.</p>
                <form method="post" action="/confirm/{Page.Encode(token)}">
                  <button type="submit">Confirm my subscription</button>
                </form>
                <p class="note">Didn't ask for this? Just close this page. Nothing will be sent, and we'll forget the address.</p>
                """, name),
            ConfirmState.Confirmed => Confirmed(view, links, editions.Value, name, justNow: false),
            _ => NotUsable(view.State, token, PublicRequest.WantsJson(request), name),
        };
    }

    private static async Task<IResult> Confirm(
        string token, HttpRequest request, SubscriptionService service, SubscriberLinks links, NewsletterMetrics metrics,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        var before = await service.InspectConfirmationAsync(token, cancellationToken);
        var view = await service.ConfirmAsync(token, cancellationToken);
        if (view.State != ConfirmState.Confirmed)
        {
            return NotUsable(view.State, token, body.IsJson, name);
        }
        if (before.State == ConfirmState.Pending)
        {
            metrics.Confirmed();
        }
        if (body.IsJson)
        {
            return TypedResults.Ok(new { status = "confirmed", editions = view.ActiveEditions });
        }
        return Confirmed(view, links, editions.Value, name, justNow: before.State == ConfirmState.Pending);
    }

    private static async Task<IResult> Resend(
        string token, HttpRequest request, SubscriptionService service, SubscriberLinks links,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        // A new link, if the address's email slot is free, is in the outbox with the request's commit.
        var (view, _) = await service.ResendConfirmationAsync(token, cancellationToken);
        if (view.State == ConfirmState.Confirmed)
        {
            return Confirmed(view, links, editions.Value, name, justNow: false);
        }
        if (view.State is not (ConfirmState.Pending or ConfirmState.Expired))
        {
            return NotUsable(view.State, token, body.IsJson, name);
        }
        return body.IsJson
            ? TypedResults.Json(new { status = "confirmation-sent" }, statusCode: StatusCodes.Status202Accepted)
            : Page.Html("A new link is on its way", """
                <h1>A new link is on its way</h1>
                <p>Check your inbox for a fresh confirmation email and press the button in it.</p>
                <p class="note">We send at most one email an hour to any address, so if you asked a moment ago, the newest link is already there. Nothing arriving? Have a look in your spam or promotions folder.</p>
                """, name);
    }

    private static IResult Confirmed(ConfirmView view, SubscriberLinks links, EditionsOptions editions, string name, bool justNow)
    {
        var what = view.ActiveEditions.Count == 0
            ? "<p>You're not getting any editions at the moment. You can choose some on your preferences page.</p>"
            : $"<p>You'll get {Page.Encode(Names(view.ActiveEditions, editions))}. The first one arrives with the next edition.</p>";
        // Only the press that confirmed gets a way in: an old confirmation link is not a lasting key to the preferences page.
        var preferences = justNow
            ? $"""<p><a href="{Page.Encode(links.PreferencesPath(view.LinkKey))}">Change your editions or your name</a></p>"""
            : "<p>To change your editions or your name, use the preferences link at the bottom of any of our emails.</p>";
        return Page.Html(justNow ? "You're in" : "You're already confirmed", $"""
            <h1>{(justNow ? "You're in. Welcome!" : "You're already confirmed")}</h1>
            {what}
            <p>Thank you for trusting us with a small corner of your inbox. We'll try to make it worth opening.</p>
            {preferences}
            """, name);
    }

    private static IResult NotUsable(ConfirmState state, string token, bool json, string name) => state switch
    {
        ConfirmState.Expired when json => PublicAnswers.Problem(StatusCodes.Status410Gone, "This confirmation link has expired",
            $"POST /confirm/{{token}}/resend to get a new one. Nothing was changed."),
        ConfirmState.Expired => Page.Html("This link has expired", $"""
            <h1>This link has expired</h1>
            <p>Confirmation links only work for a few days, to keep your address safe. No harm done: we can send you a fresh one.</p>
            <form method="post" action="/confirm/{Page.Encode(token)}/resend">
              <button type="submit">Send me a new link</button>
            </form>
            <p class="note">Nothing has been changed, and nothing will be sent unless you ask.</p>
            """, name, StatusCodes.Status410Gone),
        ConfirmState.Gone when json => PublicAnswers.Problem(StatusCodes.Status410Gone, "This sign-up is no longer waiting",
            "The sign-up this link belonged to was removed. Sign up again at /subscribe."),
        ConfirmState.Gone => Page.Html("This sign-up is no longer waiting", """
            <h1>This sign-up is no longer waiting</h1>
            <p>We forget sign-ups that aren't confirmed after a while, so this link has nothing left to confirm.</p>
            <p>If you'd still like the newsletter, you're very welcome to <a href="/subscribe">sign up again</a>.</p>
            """, name, StatusCodes.Status410Gone),
        _ => PublicAnswers.BadLink(json, name),
    };

    internal static string Names(IEnumerable<string> keys, EditionsOptions editions)
    {
        var names = keys.Select(k => editions.TryGet(k, out var e) ? e.DisplayName : k).ToList();
        return names.Count switch
        {
            0 => "no editions",
            1 => names[0],
            _ => string.Join(", ", names[..^1]) + " and " + names[^1],
        };
    }
}
