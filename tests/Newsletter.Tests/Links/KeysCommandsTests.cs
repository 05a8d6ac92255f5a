using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Links;

/// <summary>`newsletter keys list | rotate | retire`, with keys kept in the database and with configured keys.</summary>
public sealed class KeysCommandsTests
{
    private static readonly LinkToken Token = new(TokenPurpose.Preferences, 42, "");

    private static async Task<string> SignAsync(TestApp app)
    {
        await using var host = await app.StartHostAsync();
        return host.Services.GetRequiredService<LinkTokenSigner>().Sign(Token);
    }

    private static async Task<bool> VerifiesAsync(TestApp app, string token)
    {
        await using var host = await app.StartHostAsync();
        return host.Services.GetRequiredService<LinkTokenSigner>().TryVerify(token, TokenPurpose.Preferences, out _);
    }

    [Fact]
    public async Task Rotate_adds_a_newer_key_that_signs_while_links_signed_with_the_older_one_keep_working()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        var byFirst = await SignAsync(app);

        var rotated = await app.RunCliOkAsync("keys", "rotate");

        Assert.Contains("Added key k2", rotated.Out, StringComparison.Ordinal);
        var list = await app.RunCliOkAsync("keys", "list");
        Assert.Contains("Signing keys are kept in the database", list.Out, StringComparison.Ordinal);
        Assert.Matches(@"k1 +added \S+ \S+ UTC, checks links it signed", list.Out);
        Assert.Matches(@"k2 +added \S+ \S+ UTC, signs new links", list.Out);
        Assert.True(await VerifiesAsync(app, byFirst));
        var bySecond = await SignAsync(app);
        Assert.NotEqual(byFirst, bySecond);
        Assert.True(new LinkTokenSigner(await StoredAsync(app, "k2")).TryVerify(bySecond, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public async Task Retire_makes_links_signed_with_that_key_fail_and_refuses_the_key_that_signs()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        var byFirst = await SignAsync(app);
        await app.RunCliOkAsync("keys", "rotate");

        var refused = await app.RunCliAsync("keys", "retire", "k2");
        var retired = await app.RunCliAsync("keys", "retire", "k1");
        var unknown = await app.RunCliAsync("keys", "retire", "k9");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("k2 signs new links, so it cannot be retired", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, retired.ExitCode);
        Assert.Contains("Retired key k1", retired.Out, StringComparison.Ordinal);
        Assert.Equal(1, unknown.ExitCode);
        Assert.False(await VerifiesAsync(app, byFirst));
        Assert.True(await VerifiesAsync(app, await SignAsync(app)));
        Assert.Matches(@"k1 +added \S+ \S+ UTC, retired", (await app.RunCliOkAsync("keys", "list")).Out);
    }

    [Fact]
    public async Task The_single_secret_of_an_older_database_is_the_legacy_key_its_links_open_until_it_is_retired()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        await app.CreateDatabaseAsync();
        var secret = Enumerable.Range(0, 48).Select(i => (byte)(200 - i)).ToArray();
        await using (var db = app.OpenDb())
        {
            db.Settings.Add(new Setting { Key = "token-secret", Value = Convert.ToBase64String(secret) });
            await db.SaveChangesAsync();
        }
        var sentBefore = SigningKeysTests.V1Token(secret, TokenPurpose.Preferences, 42);
        Assert.True(await VerifiesAsync(app, sentBefore));

        await app.RunCliOkAsync("keys", "rotate");
        Assert.True(await VerifiesAsync(app, sentBefore));
        await app.RunCliOkAsync("keys", "retire", "legacy");

        Assert.False(await VerifiesAsync(app, sentBefore));
    }

    [Fact]
    public async Task With_configured_keys_rotate_prints_a_new_key_and_the_settings_that_add_it_and_stores_nothing()
    {
        await using var app = TestApp.Create();

        var result = await app.RunCliOkAsync("keys", "rotate");

        Assert.Contains("nothing was stored", result.Out, StringComparison.Ordinal);
        var id = Setting(result.Out, "Newsletter__TokenKeys__0__Id=");
        var secret = Setting(result.Out, "Newsletter__TokenKeys__0__Secret=");
        Assert.Equal("k1", id);
        Assert.Equal(48, Convert.FromBase64String(secret).Length);
        await using (var db = app.OpenDb())
        {
            Assert.False(await db.Settings.AnyAsync(s => s.Key.StartsWith("token-")));
        }
        app.Set("Newsletter:TokenKeys:0:Id", id).Set("Newsletter:TokenKeys:0:Secret", secret);
        var signed = await SignAsync(app);
        Assert.True(new LinkTokenSigner(new SigningKeys([new SigningKey("k1", Convert.FromBase64String(secret))])).TryVerify(signed, TokenPurpose.Preferences, out _));
        var list = await app.RunCliOkAsync("keys", "list");
        Assert.Matches(@"legacy +checks links it signed \(also checks links from before key ids\)", list.Out);
        Assert.Matches(@"k1 +signs new links", list.Out);
    }

    [Fact]
    public async Task With_configured_keys_retire_names_the_setting_to_change()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();

        var result = await app.RunCliAsync("keys", "retire", "legacy");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("removing Newsletter:TokenSecret", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_prints_the_keys_kept_in_the_database_as_settings_and_configured_so_the_links_already_sent_keep_working()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        var byFirst = await SignAsync(app);
        await app.RunCliOkAsync("keys", "rotate");
        var bySecond = await SignAsync(app);

        var exported = await app.RunCliOkAsync("keys", "export");

        var settings = exported.Out.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("Newsletter__", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Replace("__", ":", StringComparison.Ordinal), p => p[1]);
        Assert.Equal("k1", settings["Newsletter:TokenKeys:0:Id"]);
        Assert.Equal("k2", settings["Newsletter:TokenKeys:1:Id"]);
        Assert.Equal(4, settings.Keys.Count(k => k.StartsWith("Newsletter:TokenKeys:", StringComparison.Ordinal)));
        Assert.False(settings.ContainsKey("Newsletter:TokenSecret")); // no secret of before key ids here
        foreach (var (key, value) in settings)
        {
            app.Set(key, value);
        }
        Assert.Contains("Signing keys are configured", (await app.RunCliOkAsync("keys", "list")).Out, StringComparison.Ordinal);
        await using (var db = app.OpenDb())
        {
            // Configured keys are the only ones read: the stored ones no longer count.
            db.Settings.RemoveRange(db.Settings.Where(s => s.Key.StartsWith("token-")));
            await db.SaveChangesAsync();
        }
        Assert.True(await VerifiesAsync(app, byFirst));
        Assert.True(await VerifiesAsync(app, bySecond));
        var again = await app.RunCliAsync("keys", "export");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("nothing to export", again.Error, StringComparison.Ordinal);
    }

    private static string Setting(string output, string prefix) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];

    private static async Task<SigningKeys> StoredAsync(TestApp app, string id)
    {
        await using var db = app.OpenDb();
        var value = (await db.Settings.SingleAsync(s => s.Key == "token-key:" + id)).Value;
        var secret = System.Text.Json.JsonDocument.Parse(value).RootElement.GetProperty("Secret").GetString()!;
        return new SigningKeys([new SigningKey(id, Convert.FromBase64String(secret))]);
    }
}
