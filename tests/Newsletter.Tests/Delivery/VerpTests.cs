using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Delivery;

/// <summary>Per-recipient envelope senders that say who bounced without reading the bounce.</summary>
public sealed class VerpTests
{
    private static MessageOptions WithVerp() => new() { Verp = { Domain = "bounces.example.org" } };

    private static VerpAddresses Verp(MessageOptions? options = null, LinkTokenSigner? signer = null) =>
        new(Options.Create(options ?? WithVerp()), signer ?? MessageKit.Signer);

    [Fact]
    public void Each_recipient_of_a_publication_gets_an_envelope_sender_naming_the_publication_and_subscriber()
    {
        var factory = MessageKit.Factory(WithVerp());
        var edition = MessageKit.Editions().Get("weekly-fact");

        var sam = factory.EnvelopeFrom(edition, new Recipient(42, "sam@example.com", "Sam"), publicationId: 7);
        var alex = factory.EnvelopeFrom(edition, new Recipient(43, "alex@example.com", null), publicationId: 7);

        Assert.Matches("^bounces\\+7-42-legacy-[a-z2-7]{16}@bounces\\.example\\.org$", sam.Address);
        Assert.NotEqual(sam.Address, alex.Address);
        Assert.True(sam.Address.Split('@')[0].Length <= 64);
        Assert.True(Verp().TryParse(sam.Address, out var token));
        Assert.Equal(new VerpToken(7, 42), token);
        Assert.True(Verp().TryParse(alex.Address, out token));
        Assert.Equal(new VerpToken(7, 43), token);
    }

    [Fact]
    public void A_bounce_address_is_read_back_whatever_its_case_or_angle_brackets()
    {
        var address = Verp().For(123456, 987654)!.Address;

        Assert.True(Verp().TryParse($"<{address.ToUpperInvariant()}>", out var token));
        Assert.Equal(new VerpToken(123456, 987654), token);
    }

    [Theory]
    [InlineData("bounces+7-43-legacy-")]
    [InlineData("bounces+8-42-legacy-")]
    [InlineData("bounces+7-42-k1-")]
    [InlineData("bounces+7-42-")]
    [InlineData("other+7-42-legacy-")]
    public void A_forged_or_altered_bounce_address_is_not_believed(string prefix)
    {
        var genuine = Verp().For(7, 42)!.Address;
        var mac = genuine.Split('-')[3].Split('@')[0];

        Assert.False(Verp().TryParse($"{prefix}{mac}@bounces.example.org", out _));
    }

    [Theory]
    [InlineData("bounces+7-42-aaaaaaaaaaaaaaaa@bounces.example.org")]
    [InlineData("bounces+7-42@bounces.example.org")]
    [InlineData("bounces@bounces.example.org")]
    [InlineData("newsletter@example.org")]
    [InlineData("")]
    [InlineData("not an address")]
    public void Anything_that_is_not_one_of_our_bounce_addresses_is_not_read(string address)
    {
        Assert.False(Verp().TryParse(address, out _));
    }

    [Fact]
    public void A_bounce_address_from_another_domain_or_another_secret_is_not_read()
    {
        var address = Verp().For(7, 42)!.Address;
        var otherSigner = new LinkTokenSigner(Enumerable.Range(0, 48).Select(i => (byte)(255 - i)).ToArray());

        Assert.False(Verp().TryParse(address.Replace("bounces.example.org", "bounces.example.net", StringComparison.Ordinal), out _));
        Assert.False(Verp(signer: otherSigner).TryParse(address, out _));
    }

    [Fact]
    public void Without_verp_the_envelope_sender_is_the_editions_from_address()
    {
        var factory = MessageKit.Factory();
        var edition = MessageKit.Editions().Get("weekly-fact");

        var from = factory.EnvelopeFrom(edition, MessageKit.Sam, publicationId: 7);

        Assert.Equal("newsletter@example.org", from.Address);
        Assert.Equal("", from.Name);
        Assert.Null(Verp(new MessageOptions()).For(7, 42));
    }

    [Theory]
    [InlineData("bounces.example.org", "with+plus")]
    [InlineData("not a domain", "bounces")]
    public void A_bad_verp_setting_fails_validation_naming_its_key(string domain, string localPart)
    {
        var result = new MessageOptionsValidator().Validate(null, new MessageOptions { Verp = { Domain = domain, LocalPart = localPart } });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Messages:Verp:", StringComparison.Ordinal));
    }
}

/// <summary>Bounce addresses follow the link keys: each names its key, and those of before key ids are still read.</summary>
public sealed class VerpKeyTests
{
    private static readonly byte[] Legacy = Convert.FromBase64String(TestApp.FixedTokenSecret);
    private static readonly byte[] Newer = Enumerable.Range(0, 48).Select(i => (byte)(i * 5 + 9)).ToArray();

    private static VerpAddresses Verp(params SigningKey[] keys) =>
        new(Options.Create(new MessageOptions { Verp = { Domain = "bounces.example.org" } }), new LinkTokenSigner(new SigningKeys(keys)));

    /// <summary>The address the version before key ids made (its algorithm, kept here as the reference).</summary>
    private static string AddressOfBeforeKeyIds(int publication, int subscriber)
    {
        var seed = Newsletter.Tests.Links.SigningKeysTests.V1Token(Legacy, TokenPurpose.Unsubscribe, 0, "verp-key-v1");
        var key = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes("newsletter/verp/v1|" + seed));
        var ids = $"{publication}-{subscriber}";
        var mac = System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes(ids));
        var text = new System.Text.StringBuilder();
        ulong buffer = 0;
        var bits = 0;
        for (var i = 0; i < 10; i++)
        {
            buffer = (buffer << 8) | mac[i];
            bits += 8;
            while (bits >= 5)
            {
                text.Append("abcdefghijklmnopqrstuvwxyz234567"[(int)((buffer >> (bits - 5)) & 31)]);
                bits -= 5;
            }
        }
        return $"bounces+{ids}-{text}@bounces.example.org";
    }

    [Fact]
    public void A_bounce_address_of_before_key_ids_is_read_while_the_legacy_key_is_not_retired()
    {
        var old = AddressOfBeforeKeyIds(7, 42);

        Assert.True(Verp(new SigningKey("legacy", Legacy), new SigningKey("k1", Newer)).TryParse(old, out var token));
        Assert.Equal(new VerpToken(7, 42), token);
        Assert.False(Verp(new SigningKey("k1", Newer)).TryParse(old, out _));
    }

    [Fact]
    public void A_bounce_address_names_the_newest_key_and_is_refused_once_that_key_is_retired()
    {
        var address = Verp(new SigningKey("legacy", Legacy), new SigningKey("k1", Newer)).For(7, 42)!.Address;

        Assert.StartsWith("bounces+7-42-k1-", address, StringComparison.Ordinal);
        Assert.True(Verp(new SigningKey("k1", Newer), new SigningKey("k2", Legacy)).TryParse(address, out _));
        Assert.False(Verp(new SigningKey("legacy", Legacy), new SigningKey("k2", Legacy)).TryParse(address, out _));
    }
}
