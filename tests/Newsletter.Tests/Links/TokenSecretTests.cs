using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Links;

namespace Newsletter.Tests.Links;

/// <summary>The link-signing keys when none are configured: generated once and kept in the database so every instance signs alike.</summary>
public sealed class TokenSecretTests
{
    [Fact]
    public async Task Without_configured_keys_one_is_generated_on_first_use_and_stored_in_the_settings_table()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        await using var host = await app.StartHostAsync();
        await using (var before = app.OpenDb())
        {
            Assert.DoesNotContain(await before.Settings.Select(s => s.Key).ToListAsync(), k => k.StartsWith("token-", StringComparison.Ordinal));
        }

        var link = host.Services.GetRequiredService<LinkBuilder>().Unsubscribe("0123456789abcdef0123456789abcdef", "weekly-tip");

        await using var db = app.OpenDb();
        var setting = Assert.Single(await db.Settings.Where(s => s.Key.StartsWith("token-")).ToListAsync());
        Assert.Equal("token-key:k1", setting.Key);
        Assert.Equal("k1", host.Services.GetRequiredService<SigningKeys>().Current.Id);
        Assert.StartsWith($"{TestApp.PublicBaseUrl}/unsubscribe/", link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_host_on_the_same_database_verifies_tokens_the_first_signed()
    {
        await using var app = TestApp.Create(tokenSecret: false);
        string token;
        await using (var first = await app.StartHostAsync())
        {
            token = first.Services.GetRequiredService<LinkTokenSigner>().Sign(new LinkToken(TokenPurpose.Unsubscribe, 42, "weekly-fact"));
        }

        await using var second = await app.StartHostAsync();
        var signer = second.Services.GetRequiredService<LinkTokenSigner>();

        Assert.True(signer.TryVerify(token, TokenPurpose.Unsubscribe, out var verified));
        Assert.Equal((42, "weekly-fact"), (verified.Id, verified.Edition));
        Assert.Equal(token, signer.Sign(new LinkToken(TokenPurpose.Unsubscribe, 42, "weekly-fact")));
        await using var db = app.OpenDb();
        Assert.Equal(1, await db.Settings.CountAsync(s => s.Key.StartsWith("token-")));
    }

    [Fact]
    public async Task Two_databases_without_configured_keys_get_different_keys()
    {
        await using var appA = TestApp.Create(tokenSecret: false);
        await using var appB = TestApp.Create(tokenSecret: false);
        await using var hostA = await appA.StartHostAsync();
        await using var hostB = await appB.StartHostAsync();

        var token = hostA.Services.GetRequiredService<LinkTokenSigner>().Sign(new LinkToken(TokenPurpose.Unsubscribe, 1, "weekly-tip"));

        Assert.False(hostB.Services.GetRequiredService<LinkTokenSigner>().TryVerify(token, TokenPurpose.Unsubscribe, out _));
    }

    [Fact]
    public async Task A_configured_secret_is_used_and_no_key_is_stored()
    {
        await using var app = TestApp.Create();
        await using var host = await app.StartHostAsync();

        var token = host.Services.GetRequiredService<LinkTokenSigner>().Sign(new LinkToken(TokenPurpose.Unsubscribe, 5, "weekly-tip"));

        var expected = new LinkTokenSigner(Convert.FromBase64String(TestApp.FixedTokenSecret));
        Assert.True(expected.TryVerify(token, TokenPurpose.Unsubscribe, out _));
        await using var db = app.OpenDb();
        Assert.DoesNotContain(await db.Settings.Select(s => s.Key).ToListAsync(), k => k == "address-hash-key" || k.StartsWith("token-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_configured_secret_that_is_too_short_is_refused_at_start_naming_the_key()
    {
        await using var app = TestApp.Create();
        app.Set("Newsletter:TokenSecret", Convert.ToBase64String(new byte[16]));

        var result = await app.RunCliAsync("issues", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Newsletter:TokenSecret", result.Error, StringComparison.Ordinal);
    }
}
