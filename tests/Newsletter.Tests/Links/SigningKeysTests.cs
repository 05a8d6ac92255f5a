using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Links;

/// <summary>Several signing keys with ids: the newest signs, older ones still check what they signed until retired.</summary>
public sealed class SigningKeysTests
{
    private static readonly string Older = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 7 + 1)).ToArray());
    private static readonly string Newer = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 11 + 3)).ToArray());

    private static TestApp WithKeys(TestApp app, bool olderRetired) => app
        .Set("Newsletter:TokenKeys:0:Id", "k1").Set("Newsletter:TokenKeys:0:Secret", Older)
        .Set("Newsletter:TokenKeys:0:Retired", olderRetired ? "true" : "false")
        .Set("Newsletter:TokenKeys:1:Id", "k2").Set("Newsletter:TokenKeys:1:Secret", Newer);

    private static LinkToken Token => new(TokenPurpose.Preferences, 42, "");

    /// <summary>A token in the format of before key ids, as emails already sent carry it.</summary>
    internal static string V1Token(byte[] secret, TokenPurpose purpose, int subscriberId, string edition = "")
    {
        var payload = Encoding.UTF8.GetBytes($"v1|{(int)purpose}|{subscriberId}|{edition}|0");
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, payload));
    }

    [Fact]
    public async Task New_links_are_signed_with_the_newest_key_and_links_signed_with_the_previous_one_still_open()
    {
        await using var app = WithKeys(TestApp.Create(), olderRetired: false);
        await using var host = await app.StartHostAsync();
        var signer = host.Services.GetRequiredService<LinkTokenSigner>();
        var byOlder = new LinkTokenSigner(new SigningKeys([new SigningKey("k1", Convert.FromBase64String(Older))])).Sign(Token);

        Assert.True(signer.TryVerify(byOlder, TokenPurpose.Preferences, out var verified));
        Assert.Equal(42, verified.Id);
        var fresh = signer.Sign(Token);
        Assert.Contains("|k2|", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(fresh.AsSpan(0, fresh.IndexOf('.')))), StringComparison.Ordinal);
        var newerOnly = new LinkTokenSigner(new SigningKeys([new SigningKey("k2", Convert.FromBase64String(Newer))]));
        Assert.True(newerOnly.TryVerify(fresh, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public async Task A_link_signed_with_a_retired_key_is_refused()
    {
        await using var app = WithKeys(TestApp.Create(), olderRetired: true);
        await using var host = await app.StartHostAsync();
        var byOlder = new LinkTokenSigner(new SigningKeys([new SigningKey("k1", Convert.FromBase64String(Older))])).Sign(Token);

        Assert.False(host.Services.GetRequiredService<LinkTokenSigner>().TryVerify(byOlder, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public void A_token_naming_one_key_but_signed_with_another_is_refused()
    {
        var keys = new SigningKeys([new SigningKey("k1", Convert.FromBase64String(Older)), new SigningKey("k2", Convert.FromBase64String(Newer))]);
        var payload = Encoding.UTF8.GetBytes("v2|k2|3|42||0");
        var forged = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Convert.FromBase64String(Older), payload));

        Assert.False(new LinkTokenSigner(keys).TryVerify(forged, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public async Task A_link_of_before_key_ids_still_opens_with_the_old_secret_as_the_legacy_key()
    {
        await using var app = WithKeys(TestApp.Create(), olderRetired: false);
        await using var host = await app.StartHostAsync();
        var old = V1Token(Convert.FromBase64String(TestApp.FixedTokenSecret), TokenPurpose.Unsubscribe, 7, "weekly-tip");

        Assert.True(host.Services.GetRequiredService<LinkTokenSigner>().TryVerify(old, TokenPurpose.Unsubscribe, out var verified));
        Assert.Equal((7, "weekly-tip"), (verified.Id, verified.Edition));
    }

    [Fact]
    public async Task A_link_of_before_key_ids_is_refused_once_the_legacy_key_is_retired()
    {
        await using var app = WithKeys(TestApp.Create(), olderRetired: false).Set("Newsletter:TokenSecret", null);
        await using var host = await app.StartHostAsync();
        var old = V1Token(Convert.FromBase64String(TestApp.FixedTokenSecret), TokenPurpose.Unsubscribe, 7, "weekly-tip");

        Assert.False(host.Services.GetRequiredService<LinkTokenSigner>().TryVerify(old, TokenPurpose.Unsubscribe, out _));
    }

    [Theory]
    [InlineData("Id", "K1", "Newsletter:TokenKeys:1:Id")]
    [InlineData("Id", "legacy", "Newsletter:TokenKeys:1:Id")]
    [InlineData("Id", "k1", "Newsletter:TokenKeys:1:Id")]
    [InlineData("Secret", "c2hvcnQ=", "Newsletter:TokenKeys:1:Secret")]
    public async Task A_bad_configured_key_is_refused_at_start_naming_the_setting(string field, string value, string setting)
    {
        await using var app = WithKeys(TestApp.Create(), olderRetired: false).Set($"Newsletter:TokenKeys:1:{field}", value);

        var result = await app.RunCliAsync("issues", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(setting, result.Error, StringComparison.Ordinal);
    }
}
