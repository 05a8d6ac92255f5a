using System.Globalization;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Worker.Configuration;

namespace Newsletter.Worker.Http;

/// <summary>
/// The parts the sign-up, preferences and unsubscribe pages share: the crisis-region choice and the
/// offer to pause every email for a while instead of leaving.
/// </summary>
internal static class ReaderChoices
{
    public const string RegionField = "crisis_region";
    public const string PauseField = "for";

    /// <summary>The region list, labelled; empty when the editor has turned regions off.</summary>
    public static string RegionSelect(CrisisLines lines, string? selected)
    {
        if (!lines.Enabled)
        {
            return "";
        }
        var chosen = lines.Normalize(selected ?? lines.Fallback);
        var options = string.Concat(lines.Regions.Select(r =>
            $"""<option value="{Page.Encode(r.Key)}"{(r.Key == chosen ? " selected" : "")}>{Page.Encode(r.Name)}</option>"""));
        return $"""
            <div class="field">
              <label for="crisis-region">Where you live</label>
              <span class="hint" id="crisis-region-hint">Every email ends with where to find help in a crisis; this picks the helpline we show you. Change it whenever you like.</span>
              <select id="crisis-region" name="{RegionField}" aria-describedby="crisis-region-hint">{options}</select>
            </div>
            """;
    }

    /// <summary>"Paused until 17 December 2026" with a button to end it now, or the three lengths of pause on offer.</summary>
    public static string PauseSection(string basePath, DateTime? pausedUntil)
    {
        var action = Page.Encode(basePath);
        if (pausedUntil is { } until)
        {
            return $"""
                <h2>Taking a break</h2>
                <p class="status" id="paused">Your emails are paused until {Page.Encode(Date(until))}. After that they start again by themselves; we won't email you about it.</p>
                <form method="post" action="{action}/resume">
                  <button type="submit" class="secondary">Resume my emails now</button>
                </form>
                """;
        }
        return $"""
            <h2>Need a break from us?</h2>
            <form method="post" action="{action}/pause">
              <p id="pause-note">You can pause every email for a while and keep your place. Nothing is sent until the pause ends, and we won't email you about it.</p>
              <div class="actions" role="group" aria-labelledby="pause-label" aria-describedby="pause-note">
                <span class="visually-hidden" id="pause-label">Pause all emails for</span>
                <button type="submit" name="{PauseField}" value="2w" class="secondary">Pause for 2 weeks</button>
                <button type="submit" name="{PauseField}" value="1m" class="secondary">Pause for 1 month</button>
                <button type="submit" name="{PauseField}" value="3m" class="secondary">Pause for 3 months</button>
              </div>
            </form>
            """;
    }

    /// <summary>The posted length of pause; null for anything but the three choices.</summary>
    public static PauseLength? PauseChoice(PublicRequest body) =>
        body.Get(PauseField) is { } value && SubscriptionService.PauseChoices.TryGetValue(value.Trim(), out var length) ? length : null;

    /// <summary>A pause request without one of the three lengths: nothing changes.</summary>
    public static IResult BadPauseChoice(bool json, string newsletterName) => json
        ? PublicAnswers.Validation(new Dictionary<string, string> { [PauseField] = "Choose 2w, 1m or 3m." }, "Nothing was paused")
        : Page.Html("Please choose how long", """
            <h1>Please choose how long</h1>
            <p>Go back and press one of the buttons: two weeks, one month or three months. Nothing has changed.</p>
            """, newsletterName, StatusCodes.Status400BadRequest);

    public static string Date(DateTime utc) => utc.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
}
