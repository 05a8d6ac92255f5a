using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Http;

/// <summary>
/// A reader's own page, reached by the signed link in every email: choose editions, change the
/// name we greet them by and the region of the crisis line, pause every email for a while, revoke every
/// link of theirs (a forwarded email), or leave altogether. GET shows; POSTs change. Editions added wait
/// for a confirmation by email.
/// </summary>
public static class PreferencesEndpoints
{
    public static IEndpointRouteBuilder MapPreferences(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/preferences").NoStore();
        group.MapGet("/{token}", Show).RequireRateLimiting(PublicRateLimits.Links);
        // Saving can send a confirmation email (an edition coming back), so it is limited like a sign-up.
        group.MapPost("/{token}", Save).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Subscribe);
        group.MapPost("/{token}/unsubscribe-all", UnsubscribeAll).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/pause", Pause).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/resume", Resume).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        group.MapPost("/{token}/revoke", Revoke).DisableAntiforgery().RequireRateLimiting(PublicRateLimits.Links);
        return app;
    }

    private static async Task<IResult> Show(
        string token, HttpRequest request, SubscriptionService service, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, CrisisLines crisis, CancellationToken cancellationToken)
    {
        var view = await service.GetPreferencesAsync(token, cancellationToken);
        return view is null
            ? PublicAnswers.BadLink(PublicRequest.WantsJson(request), newsletter.Value.Name)
            : Render(token, Suggested(view, request, crisis), null, new Dictionary<string, string>(), editions.Value, newsletter.Value.Name, crisis, 200);
    }

    /// <summary>A reader who never chose a region sees the one their browser's language suggests (not stored until they save).</summary>
    private static PreferencesView Suggested(PreferencesView view, HttpRequest request, CrisisLines crisis) =>
        view.CrisisRegion is null ? view with { CrisisRegion = crisis.Suggest(request.Headers.AcceptLanguage.ToString()) } : view;

    private static async Task<IResult> Pause(
        string token, HttpRequest request, SubscriptionService service, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, CrisisLines crisis, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        // The token first: a forged one gets the bad-link answer whatever else was posted.
        if (await service.GetPreferencesAsync(token, cancellationToken) is not { } view)
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        if (ReaderChoices.PauseChoice(body) is not { } length)
        {
            return ReaderChoices.BadPauseChoice(body.IsJson, name);
        }
        var until = await service.PauseAsync(view.SubscriberId, length, cancellationToken);
        if (until is null)
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        if (body.IsJson)
        {
            return TypedResults.Ok(new { status = "paused", pausedUntil = until.Value.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) });
        }
        var status = $"Paused. We won't send you anything until {ReaderChoices.Date(until.Value)}; then your editions start again by themselves.";
        return Render(token, Suggested(view with { PausedUntil = until }, request, crisis), status, new Dictionary<string, string>(),
            editions.Value, name, crisis, 200);
    }

    private static async Task<IResult> Resume(
        string token, HttpRequest request, SubscriptionService service, IOptions<EditionsOptions> editions,
        IOptions<NewsletterOptions> newsletter, CrisisLines crisis, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        if (await service.GetPreferencesAsync(token, cancellationToken) is not { } view
            || !await service.ResumeAsync(view.SubscriberId, cancellationToken))
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        return body.IsJson
            ? TypedResults.Ok(new { status = "resumed" })
            : Render(token, Suggested(view with { PausedUntil = null }, request, crisis), "Welcome back. Your editions start again with the next issue.",
                new Dictionary<string, string>(), editions.Value, name, crisis, 200);
    }

    private static async Task<IResult> Save(
        string token, HttpContext context, SubscriptionService service,
        IOptions<EditionsOptions> editions, IOptions<NewsletterOptions> newsletter, CrisisLines crisis, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(context.Request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        // A JSON body changes only the fields it names. A form always names them all, and a form with no
        // box ticked sends no 'editions' at all: for a form, that means none.
        var chosen = body.IsJson && !body.Has(SignupFields.Editions) ? null : body.GetAll(SignupFields.Editions);
        var result = await service.SavePreferencesAsync(token, body.Get(SignupFields.Name), chosen,
            context.Connection.RemoteIpAddress?.ToString(), context.Request.Headers.UserAgent.ToString(),
            crisis.Normalize(body.Get(ReaderChoices.RegionField)), cancellationToken);
        if (result.View is null)
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        if (result.Errors.Count > 0)
        {
            return body.IsJson
                ? PublicAnswers.Validation(result.Errors, "Your preferences were not saved")
                : Render(token, Suggested(result.View, context.Request, crisis), null, result.Errors, editions.Value, name, crisis, 400);
        }
        if (body.IsJson)
        {
            return TypedResults.Ok(new
            {
                status = "saved",
                active = result.View.Editions.Where(e => e.Status == SubscriptionStatus.Active).Select(e => e.Key),
                awaitingConfirmation = result.AwaitingConfirmation,
                crisisRegion = result.View.CrisisRegion,
            });
        }
        var status = result.AwaitingConfirmation.Count == 0
            ? "Saved. Thank you for keeping us up to date."
            : $"Saved. For {ConfirmEndpoints.Names(result.AwaitingConfirmation, editions.Value)}, we've emailed you a link to confirm. It starts once you press the button in that email.";
        return Render(token, Suggested(result.View, context.Request, crisis), status, result.Errors, editions.Value, name, crisis, 200);
    }

    private static async Task<IResult> UnsubscribeAll(
        string token, HttpRequest request, SubscriptionService service, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        var view = await service.GetPreferencesAsync(token, cancellationToken);
        if (view is null)
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        await service.UnsubscribeAllAsync(view.SubscriberId, cancellationToken);
        return body.IsJson ? TypedResults.Ok(new { status = "unsubscribed" }) : UnsubscribedEverywhere(name, token);
    }

    private static async Task<IResult> Revoke(
        string token, HttpRequest request, SubscriptionService service, IOptions<NewsletterOptions> newsletter, CancellationToken cancellationToken)
    {
        var name = newsletter.Value.Name;
        var body = await PublicRequest.ReadAsync(request, cancellationToken);
        if (body.Problem != BodyProblem.None)
        {
            return PublicAnswers.BadBody(body, name);
        }
        if (await service.ResolveAsync(token, Subscribers.Tokens.TokenPurpose.Preferences, cancellationToken) is not { } reader
            || !await service.RevokeLinksAsync(reader.SubscriberId, cancellationToken))
        {
            return PublicAnswers.BadLink(body.IsJson, name);
        }
        // No new link on this page: whoever pressed the button may be the one holding a forwarded email.
        return body.IsJson ? TypedResults.Ok(new { status = "revoked" }) : Page.Html("Your links are revoked", """
            <h1>Your old links no longer work</h1>
            <p>Every link we have sent you so far, this page's included, no longer opens your preferences. The unsubscribe links in those emails still work, but only to unsubscribe.</p>
            <p class="note">The links in the next email we send you work as usual.</p>
            """, name);
    }

    internal static IResult UnsubscribedEverywhere(string name, string? preferencesToken) => Page.Html("You're unsubscribed", $"""
        <h1>You're unsubscribed from everything</h1>
        <p>You won't get any more editions from us. Thank you for reading while you did; we hope some of it helped.</p>
        <p class="note">If you ever want to come back, {(preferencesToken is null ? "<a href=\"/subscribe\">sign up again</a>" : $"<a href=\"/preferences/{Page.Encode(preferencesToken)}\">choose your editions again</a>")}. We'll ask you to confirm by email first.</p>
        """, name);

    private static IResult Render(
        string token, PreferencesView view, string? status, IReadOnlyDictionary<string, string> errors, EditionsOptions editions, string name,
        CrisisLines crisis, int code)
    {
        var choices = string.Concat(view.Editions.Where(c => editions.TryGet(c.Key, out _)).Select(c =>
        {
            var edition = editions.Get(c.Key);
            var id = $"edition-{c.Key}";
            var isChecked = c.Status is SubscriptionStatus.Active or SubscriptionStatus.Pending ? " checked" : "";
            var note = c.Status switch
            {
                SubscriptionStatus.Pending => "Waiting for you to confirm by email.",
                SubscriptionStatus.Unsubscribed => "You left this one. Ticking it again sends you an email to confirm.",
                _ => SubscribeEndpoints.EditionPitch(edition.Format),
            };
            return $"""
                <div class="choice">
                  <input type="checkbox" id="{id}" name="editions" value="{Page.Encode(c.Key)}" aria-describedby="{id}-hint"{isChecked}>
                  <label for="{id}">{Page.Encode(edition.DisplayName)} <span class="hint" id="{id}-hint">{Page.Encode(note)}</span></label>
                </div>
                """;
        }));
        var statusHtml = status is null ? "" : $"""<p class="status" role="status">{Page.Encode(status)}</p>""";
        var body = $"""
            <h1>Your preferences</h1>
            <p>These are the settings for <strong class="address">{Page.Encode(view.Email)}</strong>. Change whatever you like and press save.</p>
            {statusHtml}
            {Page.ErrorSummary(errors, f => f == SignupFields.Editions ? "editions" : f)}
            <form method="post" action="/preferences/{Page.Encode(token)}" novalidate>
              <div class="field">
                <label for="name">The name we greet you by <span class="optional">(optional)</span></label>
                {SubscribeEndpoints.FieldError(errors, SignupFields.Name)}
                <input type="text" id="name" name="name" autocomplete="given-name" maxlength="{SubscriberModel.MaxNameLength}" value="{Page.Encode(view.Name)}"{SubscribeEndpoints.Invalid(errors, SignupFields.Name)}>
              </div>
              <fieldset id="editions">
                <legend>Your editions</legend>
                {SubscribeEndpoints.FieldError(errors, SignupFields.Editions)}
                {choices}
              </fieldset>
              {ReaderChoices.RegionSelect(crisis, view.CrisisRegion)}
              <button type="submit">Save my choices</button>
            </form>
            {ReaderChoices.PauseSection($"/preferences/{token}", view.PausedUntil)}
            <h2>Forwarded one of our emails?</h2>
            <form method="post" action="/preferences/{Page.Encode(token)}/revoke">
              <p>Anyone with one of our emails to you can open this page. Revoke every link we have sent you so far; the links in our next email will work.</p>
              <button type="submit" class="secondary">Revoke my old links</button>
            </form>
            <h2>Leaving altogether?</h2>
            <form method="post" action="/preferences/{Page.Encode(token)}/unsubscribe-all">
              <p>This stops every edition. You can come back whenever you like.</p>
              <button type="submit" class="secondary">Unsubscribe from everything</button>
            </form>
            """;
        return Page.Html("Your preferences", body, name, code);
    }
}
