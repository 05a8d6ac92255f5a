using System.Net;
using System.Text;
using System.Text.Json;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>
/// A table of bad inputs per endpoint. Each gets its documented answer — a page for a form, a
/// ProblemDetails for JSON — and leaves the list exactly as it was, with no email sent.
/// </summary>
public sealed class BadInputTests
{
    private static readonly string LongAddress = new string('a', 60) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 60), 4)) + ".org";
    private static readonly string TenMegabytes = new('x', 10 * 1024 * 1024);

    /// <summary>Form posts to /subscribe: (case, body, status, text the page must show).</summary>
    public static TheoryData<string, Func<HttpContent>, HttpStatusCode, string> FormSignups => new()
    {
        { "malformed address", () => SignupWorld.Form(("email", "not-an-email"), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "is not an email address" },
        { "two @ signs", () => SignupWorld.Form(("email", "a@b@example.org"), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "is not an email address" },
        { "overlong address", () => SignupWorld.Form(("email", LongAddress), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "the limit is 254" },
        { "CR/LF in the address", () => SignupWorld.Form(("email", "a@example.org\r\nBcc: b@example.org"), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "line break or control character" },
        { "CR/LF in the name", () => SignupWorld.Form(("email", "a@example.org"), ("name", "Sam\r\nBcc: b@example.org"), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "The name contains a line break" },
        { "control character in the name", () => SignupWorld.Form(("email", "a@example.org"), ("name", "Sam\u0007"), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "The name contains a line break or control character" },
        { "overlong name", () => SignupWorld.Form(("email", "a@example.org"), ("name", new string('n', 101)), ("editions", "weekly-tip")), HttpStatusCode.BadRequest, "the limit is 100" },
        { "unknown edition", () => SignupWorld.Form(("email", "a@example.org"), ("editions", "weekly-gossip")), HttpStatusCode.BadRequest, "There is no edition called &#x27;weekly-gossip&#x27;" },
        { "no edition chosen", () => SignupWorld.Form(("email", "a@example.org")), HttpStatusCode.BadRequest, "Please choose at least one edition" },
        { "forged consent version", () => SignupWorld.Form(("email", "a@example.org"), ("editions", "weekly-tip"), ("consent_version", "<script>")), HttpStatusCode.BadRequest, "consent text version" },
        { "a 10 MB body", () => SignupWorld.Form(("email", "a@example.org"), ("editions", "weekly-tip"), ("name", TenMegabytes)), HttpStatusCode.RequestEntityTooLarge, "too much to read" },
        { "a 10 MB multipart body", () => HttpAssert.Multipart(("email", "a@example.org"), ("editions", "weekly-tip"), ("name", TenMegabytes)), HttpStatusCode.RequestEntityTooLarge, "too much to read" },
        { "broken multipart", () => HttpAssert.Raw(Encoding.UTF8.GetBytes("--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.org"), "multipart/form-data; boundary=xyz"), HttpStatusCode.BadRequest, "could not be read" },
    };

    [Theory]
    [MemberData(nameof(FormSignups))]
    public async Task A_bad_form_sign_up_gets_a_clear_page_and_changes_nothing(string why, Func<HttpContent> body, HttpStatusCode status, string shown)
    {
        await using var world = await SignupWorld.StartAsync();
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync("/subscribe", body());

        Assert.True(status == response.StatusCode, $"{why}: expected {status}, got {response.StatusCode}");
        HttpAssert.IsHtml(response);
        Assert.Contains(shown, await HttpAssert.BodyAsync(response));
        await world.MailIdleAsync();
        Assert.Empty(world.Smtp.Messages);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_refused_form_keeps_what_was_typed_and_marks_the_field_for_screen_readers()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.PostAsync("/subscribe", SignupWorld.Form(("email", "sam@"), ("name", "Sam <b>"), ("editions", "weekly-fact")));

        var html = await HttpAssert.BodyAsync(response);
        Assert.Contains("role=\"alert\"", html);
        Assert.Contains("href=\"#email\"", html);
        Assert.Contains("aria-invalid=\"true\"", html);
        Assert.Contains("aria-describedby=\"email-error\"", html);
        Assert.Contains("value=\"sam@\"", html);
        Assert.Contains("value=\"Sam &lt;b&gt;\"", html);
        Assert.Contains("value=\"weekly-fact\" aria-describedby=\"edition-weekly-fact-hint\" checked", html);
        Assert.DoesNotContain("value=\"weekly-tip\" aria-describedby=\"edition-weekly-tip-hint\" checked", html);
    }

    /// <summary>JSON posts to /subscribe: (case, JSON, status, the error key or problem title).</summary>
    public static TheoryData<string, string, HttpStatusCode, string> JsonSignups => new()
    {
        { "malformed address", """{"email":"nope","editions":["weekly-tip"]}""", HttpStatusCode.BadRequest, "email" },
        { "overlong address", $$"""{"email":"{{LongAddress}}","editions":["weekly-tip"]}""", HttpStatusCode.BadRequest, "email" },
        { "CR/LF in the name", """{"email":"a@example.org","name":"Sam\r\nX-Evil: 1","editions":["weekly-tip"]}""", HttpStatusCode.BadRequest, "name" },
        { "unknown edition", """{"email":"a@example.org","editions":["weekly-gossip"]}""", HttpStatusCode.BadRequest, "editions" },
        { "editions missing", """{"email":"a@example.org"}""", HttpStatusCode.BadRequest, "editions" },
        { "a number for the address", """{"email":42,"editions":["weekly-tip"]}""", HttpStatusCode.BadRequest, "That request could not be read" },
        { "not an object", """["a@example.org"]""", HttpStatusCode.BadRequest, "That request could not be read" },
        { "not JSON at all", """{"email":"a@example.org",""", HttpStatusCode.BadRequest, "That request could not be read" },
        { "a 10 MB body", $$"""{"email":"a@example.org","editions":["weekly-tip"],"name":"{{TenMegabytes}}"}""", HttpStatusCode.RequestEntityTooLarge, "That was too much to read" },
    };

    [Theory]
    [MemberData(nameof(JsonSignups))]
    public async Task A_bad_JSON_sign_up_gets_problem_details_and_changes_nothing(string why, string json, HttpStatusCode status, string named)
    {
        await using var world = await SignupWorld.StartAsync();
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync("/subscribe", SignupWorld.Json(json));

        Assert.True(status == response.StatusCode, $"{why}: expected {status}, got {response.StatusCode}");
        HttpAssert.IsProblem(response);
        using var problem = JsonDocument.Parse(await HttpAssert.BodyAsync(response));
        var found = problem.RootElement.TryGetProperty("errors", out var errors)
            ? errors.TryGetProperty(named, out _)
            : problem.RootElement.GetProperty("title").GetString() == named;
        Assert.True(found, $"{why}: expected '{named}' in {problem.RootElement}");
        await world.MailIdleAsync();
        Assert.Empty(world.Smtp.Messages);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_body_that_is_neither_a_form_nor_JSON_is_refused_with_415()
    {
        await using var world = await SignupWorld.StartAsync();

        var response = await world.PostAsync("/subscribe", new StringContent("email=a@example.org", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }

    public enum TokenCase
    {
        Forged,
        Truncated,
        OtherPurpose,
        Garbage,
        UnknownSubscriber,
    }

    private static string Token(SignupWorld world, string real, TokenCase kind) => kind switch
    {
        // Same payload, signature of another secret.
        TokenCase.Forged => new LinkTokenSigner(new byte[48]).Sign(new LinkToken(TokenPurpose.Confirm, 1, "", world.Time.GetUtcNow().ToUnixTimeSeconds())),
        TokenCase.Truncated => real[..^6],
        TokenCase.OtherPurpose => world.UnsubscribeToken(1, "weekly-tip"),
        TokenCase.Garbage => "%0D%0Anot.a~token",
        _ => "",
    };

    [Theory]
    [InlineData(TokenCase.Forged)]
    [InlineData(TokenCase.Truncated)]
    [InlineData(TokenCase.OtherPurpose)]
    [InlineData(TokenCase.Garbage)]
    public async Task A_bad_confirmation_token_is_refused_on_every_confirmation_endpoint_and_changes_nothing(TokenCase kind)
    {
        await using var world = await SignupWorld.StartAsync();
        var real = (await world.SignUpAndGetLinkAsync("someone@example.org"))["/confirm/".Length..];
        var token = Token(world, real, kind);
        var before = await ListSnapshot.TakeAsync(world.App);

        var show = await world.Client.GetAsync($"/confirm/{token}");
        var confirm = await world.PostAsync($"/confirm/{token}");
        var resend = await world.PostAsync($"/confirm/{token}/resend");

        foreach (var response in new[] { show, confirm, resend })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("This link does not work", await HttpAssert.BodyAsync(response));
        }
        await world.MailIdleAsync();
        Assert.Single(world.Smtp.Messages);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_genuine_link_for_a_sign_up_that_no_longer_exists_says_so_and_offers_the_form()
    {
        await using var world = await SignupWorld.StartAsync();
        var token = world.Signer.Sign(new LinkToken(TokenPurpose.Confirm, 999, "", world.Time.GetUtcNow().ToUnixTimeSeconds()));

        var show = await world.Client.GetAsync($"/confirm/{token}");
        var confirm = await world.PostAsync($"/confirm/{token}");

        Assert.Equal(HttpStatusCode.Gone, show.StatusCode);
        Assert.Contains("href=\"/subscribe\"", await HttpAssert.BodyAsync(show));
        Assert.Equal(HttpStatusCode.Gone, confirm.StatusCode);
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }

    [Fact]
    public async Task A_10_MB_confirmation_post_is_refused_and_confirms_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var link = await world.SignUpAndGetLinkAsync("big@example.org");
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync(link, SignupWorld.Form(("padding", TenMegabytes)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    /// <summary>Preferences posts: (case, token kind or null for a real one, form, status, text shown).</summary>
    public static TheoryData<string, TokenCase?, Func<HttpContent>, HttpStatusCode, string> PreferencePosts => new()
    {
        { "forged token", TokenCase.Forged, () => SignupWorld.Form(("editions", "weekly-fact")), HttpStatusCode.BadRequest, "This link does not work" },
        { "truncated token", TokenCase.Truncated, () => SignupWorld.Form(("editions", "weekly-fact")), HttpStatusCode.BadRequest, "This link does not work" },
        { "confirmation token", TokenCase.OtherPurpose, () => SignupWorld.Form(("editions", "weekly-fact")), HttpStatusCode.BadRequest, "This link does not work" },
        { "CR/LF in the name", null, () => SignupWorld.Form(("name", "Sam\nX"), ("editions", "weekly-fact")), HttpStatusCode.BadRequest, "The name contains a line break" },
        { "overlong name", null, () => SignupWorld.Form(("name", new string('n', 101)), ("editions", "weekly-fact")), HttpStatusCode.BadRequest, "the limit is 100" },
        { "unknown edition", null, () => SignupWorld.Form(("editions", "weekly-gossip")), HttpStatusCode.BadRequest, "There is no edition called" },
        { "a 10 MB body", null, () => SignupWorld.Form(("name", TenMegabytes)), HttpStatusCode.RequestEntityTooLarge, "too much to read" },
    };

    [Theory]
    [MemberData(nameof(PreferencePosts))]
    public async Task A_bad_preferences_post_is_refused_and_changes_nothing(string why, TokenCase? kind, Func<HttpContent> form, HttpStatusCode status, string shown)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("prefs@example.org", "Sam", "weekly-tip");
        var real = world.PreferencesToken(id);
        var token = kind switch
        {
            null => real,
            TokenCase.OtherPurpose => world.Signer.Sign(new LinkToken(TokenPurpose.Confirm, id, "", world.Time.GetUtcNow().ToUnixTimeSeconds())),
            TokenCase.Forged => new LinkTokenSigner(new byte[48]).Sign(new LinkToken(TokenPurpose.Preferences, id, "")),
            { } k => Token(world, real, k),
        };
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync($"/preferences/{token}", form());
        var leave = kind is null ? null : await world.PostAsync($"/preferences/{token}/unsubscribe-all");

        Assert.True(status == response.StatusCode, $"{why}: expected {status}, got {response.StatusCode}");
        Assert.Contains(shown, await HttpAssert.BodyAsync(response));
        Assert.Equal(HttpStatusCode.BadRequest, leave?.StatusCode ?? HttpStatusCode.BadRequest);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Theory]
    [InlineData(TokenCase.Forged)]
    [InlineData(TokenCase.Truncated)]
    [InlineData(TokenCase.OtherPurpose)]
    public async Task A_bad_unsubscribe_token_is_refused_and_changes_nothing(TokenCase kind)
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("stay@example.org", null, "weekly-tip");
        var real = world.UnsubscribeToken(id, "weekly-tip");
        var token = kind switch
        {
            TokenCase.Forged => new LinkTokenSigner(new byte[48]).Sign(new LinkToken(TokenPurpose.Unsubscribe, id, "weekly-tip")),
            TokenCase.OtherPurpose => world.PreferencesToken(id),
            _ => real[..^6],
        };
        var before = await ListSnapshot.TakeAsync(world.App);

        var show = await world.Client.GetAsync($"/unsubscribe/{token}");
        var post = await world.PostAsync($"/unsubscribe/{token}", SignupWorld.Form(("List-Unsubscribe", "One-Click"), ("scope", "all")));

        Assert.Equal(HttpStatusCode.BadRequest, show.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }

    [Fact]
    public async Task A_10_MB_unsubscribe_post_is_refused_and_changes_nothing()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("stay@example.org", null, "weekly-tip");
        var before = await ListSnapshot.TakeAsync(world.App);

        var response = await world.PostAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}", SignupWorld.Form(("List-Unsubscribe", TenMegabytes)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, await ListSnapshot.TakeAsync(world.App));
    }
}
