using Microsoft.Extensions.Options;
using Newsletter.Subscribers;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Http;

/// <summary>
/// Signing up. <c>GET /subscribe</c> is the hosted form; <c>POST /subscribe</c> takes that form
/// (either encoding; also from the embeddable snippet on another site) or a JSON object, and records
/// a pending sign-up with, in the same transaction, its confirmation email in the outbox (the
/// background sender delivers it). The answer never says whether the address was already on the list. No antiforgery token: the form is meant to be posted from other sites, and
/// the double opt-in is what protects an address from being signed up by someone else.
/// </summary>
public static class SubscribeEndpoints
{
    public static IEndpointRouteBuilder MapSubscribe(this IEndpointRouteBuilder app)
    {
        app.MapGet("/subscribe", ShowForm).RequireRateLimiting(PublicRateLimits.Links);
        app.MapPost("/subscribe", Subscribe).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Subscribe);
        return app;
    }

    // The region is pre-selected from the browser's languages (Accept-Language) only: never from the address it connects from.
    private static IResult ShowForm(
        HttpRequest request, IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, IOptions<SubscriberOptions> options,
        CrisisLines crisis) =>
        Form(new FormState(null, null, [.. editions.Value.Keys], new Dictionary<string, string>(), crisis.Suggest(request.Headers.AcceptLanguage.ToString())),
            editions.Value, newsletter.Value, options.Value, crisis, 200);

    private static async Task<IResult> Subscribe(
        HttpContext context, SubscriptionService service, NewsletterMetrics metrics,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, IOptions<SubscriberOptions> options,
        CrisisLines crisis, CancellationToken cancellationToken)
    {
        var body = await PublicRequest.ReadAsync(context.Request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, newsletter.Value.Name);
        }
        var email = body.Get(SignupFields.Email);
        var name = body.Get(SignupFields.Name);
        var chosen = body.GetAll(SignupFields.Editions);
        // An unknown region becomes the fallback rather than an error: a sign-up is never lost over it.
        var region = crisis.Normalize(body.Get(ReaderChoices.RegionField));

        // A filled-in honeypot is a bot: it gets the ordinary answer (so it learns nothing) and nothing is recorded.
        if (!string.IsNullOrEmpty(body.Get(SignupFields.Honeypot)))
        {
            return Accepted(body.IsJson, email, newsletter.Value.Name);
        }

        var result = await service.SubscribeAsync(new SignupRequest(
            email, name, chosen, body.IsJson ? "json-api" : "web-form",
            context.Connection.RemoteIpAddress?.ToString(), context.Request.Headers.UserAgent.ToString(),
            body.Get(SignupFields.ConsentVersion), region), cancellationToken);
        if (!result.Succeeded)
        {
            return body.IsJson
                ? PublicAnswers.Validation(result.Errors, "The sign-up was not accepted")
                : Form(new FormState(email, name, chosen, result.Errors, region), editions.Value, newsletter.Value, options.Value, crisis, 400);
        }
        metrics.SignedUp();
        return Accepted(body.IsJson, email, newsletter.Value.Name);
    }

    /// <summary>The one answer to every accepted sign-up, whatever the address's history.</summary>
    private static IResult Accepted(bool json, string? email, string newsletterName)
    {
        const string detail = "If the address can receive our email, a message with a confirmation link is on its way. Nothing is sent until it is confirmed.";
        if (json)
        {
            return TypedResults.Json(new { status = "confirmation-sent", detail }, statusCode: StatusCodes.Status202Accepted);
        }
        var shown = email is { Length: > 0 and <= 254 } && !email.Any(char.IsControl) ? Page.Encode(email.Trim()) : "your address";
        return Page.Html("Check your inbox", $"""
            <h1>Check your inbox</h1>
            <p>We've sent a message to <strong class="address">{shown}</strong> with a link to confirm your subscription. Open it, press the button, and you're in.</p>
            <p>We ask because we only ever want to write to people who asked us to, and we'll send nothing else until you confirm.</p>
            <p class="note">Nothing there after a few minutes? Have a look in your spam or promotions folder. We send at most one email an hour to any address, so if you've just asked, it may already be waiting for you.</p>
            """, newsletterName);
    }

    private sealed record FormState(string? Email, string? Name, IReadOnlyList<string> Editions, IReadOnlyDictionary<string, string> Errors, string? Region);

    private static string FieldId(string field) => field switch
    {
        SignupFields.Editions => "editions",
        SignupFields.ConsentVersion => "subscribe-form",
        _ => field,
    };

    private static IResult Form(
        FormState state, EditionsOptions editions, NewsletterOptions newsletter, SubscriberOptions options, CrisisLines crisis, int status)
    {
        var e = state.Errors;
        var choices = string.Concat(editions.Keys.Select(key =>
        {
            var edition = editions.Get(key);
            var id = $"edition-{key}";
            var isChecked = state.Editions.Contains(key, StringComparer.Ordinal) ? " checked" : "";
            return $"""
                <div class="choice">
                  <input type="checkbox" id="{id}" name="editions" value="{Page.Encode(key)}" aria-describedby="{id}-hint"{isChecked}>
                  <label for="{id}">{Page.Encode(edition.DisplayName)} <span class="hint" id="{id}-hint">{Page.Encode(EditionPitch(edition.Format))}</span></label>
                </div>
                """;
        }));
        var body = $"""
            <h1>Sign up for {Page.Encode(newsletter.Name)}</h1>
            <p>Gentle, practical emails about mental health: a fact worth knowing, a small thing to try, and once a month one person's story. Choose what suits you; you can change your mind at any time.</p>
            {Page.ErrorSummary(e, FieldId)}
            <form id="subscribe-form" method="post" action="/subscribe" novalidate>
              <div class="field">
                <label for="email">Your email address</label>
                {FieldError(e, SignupFields.Email)}
                <input type="email" id="email" name="email" autocomplete="email" required maxlength="{SubscriberModel.MaxEmailLength}" spellcheck="false" value="{Page.Encode(state.Email)}"{Invalid(e, SignupFields.Email)}>
              </div>
              <div class="field">
                <label for="name">Your first name <span class="optional">(optional)</span></label>
                <span class="hint" id="name-hint">So we can say hello properly.</span>
                {FieldError(e, SignupFields.Name)}
                <input type="text" id="name" name="name" autocomplete="given-name" maxlength="{SubscriberModel.MaxNameLength}" value="{Page.Encode(state.Name)}"{Invalid(e, SignupFields.Name, "name-hint")}>
              </div>
              <fieldset id="editions"{(e.ContainsKey(SignupFields.Editions) ? " aria-describedby=\"editions-error\"" : "")}>
                <legend>Which editions would you like?</legend>
                {FieldError(e, SignupFields.Editions)}
                {choices}
              </fieldset>
              {ReaderChoices.RegionSelect(crisis, state.Region)}
              <div class="hp" aria-hidden="true">
                <label for="website">Leave this field empty</label>
                <input type="text" id="website" name="website" tabindex="-1" autocomplete="off">
              </div>
              <input type="hidden" name="consent_version" value="{Page.Encode(options.ConsentTextVersion)}">
              <p class="note" id="consent-text">{Page.Encode(options.ConsentText)}</p>
              <button type="submit" aria-describedby="consent-text">Subscribe</button>
            </form>
            <p class="note">This newsletter shares information, not professional advice. {Page.Encode(newsletter.CrisisResources)}</p>
            """;
        return Page.Html(e.Count > 0 ? "Please check the form" : "Sign up", body, newsletter.Name, status);
    }

    internal static string EditionPitch(EditionFormat format) => format switch
    {
        EditionFormat.Fact => "One well-sourced fact about mental health, and why it matters.",
        EditionFormat.Tip => "One small, doable thing to try in the week ahead.",
        EditionFormat.Spotlight => "Once a month, one person's story, told with their permission and with care.",
        _ => "",
    };

    internal static string FieldError(IReadOnlyDictionary<string, string> errors, string field) =>
        errors.TryGetValue(field, out var message)
            ? $"""<p class="field-error" id="{field}-error"><span class="visually-hidden">Error: </span>{Page.Encode(message)}</p>"""
            : "";

    internal static string Invalid(IReadOnlyDictionary<string, string> errors, string field, string? hintId = null)
    {
        var describedBy = string.Join(' ', new[] { hintId, errors.ContainsKey(field) ? $"{field}-error" : null }.Where(x => x is not null));
        return (describedBy.Length > 0 ? $" aria-describedby=\"{describedBy}\"" : "")
               + (errors.ContainsKey(field) ? " aria-invalid=\"true\"" : "");
    }
}
