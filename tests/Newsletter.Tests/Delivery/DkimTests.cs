using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Delivery;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;

namespace Newsletter.Tests.Delivery;

/// <summary>DKIM signatures made by the message builder, checked with MimeKit's own verifier.</summary>
public sealed class DkimTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("newsletter-dkim-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private MessageOptions Signing(string privatePem, bool asFile = true)
    {
        var options = new MessageOptions { Dkim = { Domain = "example.org", Selector = "news2026" } };
        if (asFile)
        {
            var path = Path.Combine(_directory, "dkim.pem");
            File.WriteAllText(path, privatePem);
            options.Dkim.PrivateKeyPath = path;
        }
        else
        {
            options.Dkim.PrivateKey = privatePem;
        }
        return options;
    }

    /// <summary>The public key "published in DNS": here, handed to the verifier directly.</summary>
    private sealed class TestKeyLocator(string publicPem) : IDkimPublicKeyLocator
    {
        private readonly AsymmetricKeyParameter _key = (AsymmetricKeyParameter)new PemReader(new StringReader(publicPem)).ReadObject();

        public List<string> Asked { get; } = [];

        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            Asked.Add($"{selector}._domainkey.{domain}");
            return _key;
        }

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }

    private static bool Verify(MimeMessage message, TestKeyLocator locator)
    {
        var index = message.Headers.IndexOf(HeaderId.DkimSignature);
        Assert.True(index >= 0, "the message has no DKIM-Signature");
        return new DkimVerifier(locator).Verify(message, message.Headers[index]);
    }

    private static async Task<ReceivedMessage> SendThroughSmtpAsync(TestSmtpServer server, MimeMessage message)
    {
        var transport = new SmtpTransport(
            Options.Create(new SmtpOptions { Host = server.Host, Port = server.Port, Security = SmtpSecurity.None, Timeout = TimeSpan.FromSeconds(15) }),
            NullLogger<SmtpTransport>.Instance);
        await using (var connection = await transport.OpenAsync(CancellationToken.None))
        {
            var result = await connection.SendAsync(message, MailboxAddress.Parse("newsletter@example.org"), MailboxAddress.Parse(MessageKit.Sam.Email), CancellationToken.None);
            Assert.Equal(SendStatus.Accepted, result.Status);
        }
        await server.WaitForMessagesAsync(1, TimeSpan.FromSeconds(15));
        return Assert.Single(server.Messages);
    }

    [Theory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task A_signed_message_still_verifies_after_passing_through_a_real_smtp_server(string edition)
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var message = await MessageKit.BuildAsync(edition, Signing(privatePem));
        await using var server = await TestSmtpServer.StartAsync();

        var received = await SendThroughSmtpAsync(server, message);
        var locator = new TestKeyLocator(publicPem);

        var parsed = MimeMessage.Load(new MemoryStream(received.Raw));
        Assert.True(Verify(parsed, locator), "the signature does not verify after SMTP");
        Assert.Equal(["news2026._domainkey.example.org"], locator.Asked);
    }

    [Fact]
    public async Task The_signature_is_rsa_sha256_relaxed_relaxed_and_covers_the_list_headers()
    {
        var (privatePem, _) = MessageKit.NewRsaKey();
        var options = Signing(privatePem);
        options.ReplyTo = "hello@example.org";
        options.FeedbackIdSender = "steadyground";
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync("weekly-fact", options)));

        var signature = message.Headers[HeaderId.DkimSignature]!.Replace("\r\n", "", StringComparison.Ordinal).Replace("\t", " ", StringComparison.Ordinal);
        var tags = signature.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.Split('=', 2)).ToDictionary(t => t[0], t => t[1].Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("rsa-sha256", tags["a"]);
        Assert.Equal("relaxed/relaxed", tags["c"]);
        Assert.Equal("example.org", tags["d"]);
        Assert.Equal("news2026", tags["s"]);
        var signed = tags["h"].Split(':');
        foreach (var header in new[] { "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id", "list-unsubscribe", "list-unsubscribe-post", "reply-to", "feedback-id" })
        {
            Assert.Contains(header, signed, StringComparer.OrdinalIgnoreCase);
        }
        Assert.Equal(1, MessageKit.Count(MessageKit.HeaderLines(MessageKit.Serialize(message)), "DKIM-Signature"));
    }

    [Theory]
    [InlineData("Subject", "Fact of the Week: a different fact")]
    [InlineData("List-Unsubscribe", "<https://attacker.example.net/unsubscribe>")]
    [InlineData("From", "Someone Else <someone@example.net>")]
    public async Task Changing_a_signed_header_after_signing_fails_verification(string header, string value)
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var message = await MessageKit.BuildAsync("weekly-fact", Signing(privatePem));
        await using var server = await TestSmtpServer.StartAsync();
        var received = MimeMessage.Load(new MemoryStream((await SendThroughSmtpAsync(server, message)).Raw));
        Assert.True(Verify(received, new TestKeyLocator(publicPem)));

        received.Headers[header] = value;

        Assert.False(Verify(received, new TestKeyLocator(publicPem)));
    }

    [Theory]
    [InlineData("Subject", "Fact of the Week: a different fact")]
    [InlineData("List-Unsubscribe", "<https://attacker.example.net/unsubscribe>")]
    [InlineData("From", "Someone Else <someone@example.net>")]
    public async Task A_second_copy_of_From_Subject_or_List_Unsubscribe_added_above_the_signed_one_fails_verification(string header, string value)
    {
        // Oversigned: a verifier reads headers bottom up, so without it an added copy on top (the one a reader sees) would pass.
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var message = await MessageKit.BuildAsync("weekly-fact", Signing(privatePem));
        await using var server = await TestSmtpServer.StartAsync();
        var received = MimeMessage.Load(new MemoryStream((await SendThroughSmtpAsync(server, message)).Raw));
        Assert.True(Verify(received, new TestKeyLocator(publicPem)));

        received.Headers.Insert(0, new Header(header, value));

        Assert.False(Verify(received, new TestKeyLocator(publicPem)));
    }

    [Fact]
    public async Task Changing_the_body_after_signing_fails_verification()
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync("weekly-tip", Signing(privatePem))));

        var text = (TextPart)((Multipart)message.Body!)[0];
        text.SetText("utf-8", text.Text!.Replace("Unsubscribe", "Do not unsubscribe", StringComparison.Ordinal));

        Assert.False(Verify(message, new TestKeyLocator(publicPem)));
    }

    [Fact]
    public async Task A_key_in_pkcs1_form_given_as_secret_text_with_escaped_newlines_signs_too()
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey(pkcs1: true);
        var escaped = privatePem.Replace("\n", "\\n", StringComparison.Ordinal);
        var message = MessageKit.Parse(MessageKit.Serialize(await MessageKit.BuildAsync("monthly-spotlight", Signing(escaped, asFile: false))));

        Assert.True(Verify(message, new TestKeyLocator(publicPem)));
    }

    [Fact]
    public void Without_dkim_configuration_nothing_is_signed_and_nothing_is_required()
    {
        var result = new MessageOptionsValidator().Validate(null, new MessageOptions());

        Assert.True(result.Succeeded);
        Assert.False(new DkimSigning(Options.Create(new MessageOptions())).Enabled);
    }

    public static TheoryData<string, string> BadDkim => new()
    {
        { "missing-file", "Messages:Dkim:PrivateKeyPath" },
        { "not-a-key", "Messages:Dkim:PrivateKeyPath" },
        { "public-key", "Messages:Dkim:PrivateKeyPath" },
        { "secret-garbage", "Messages:Dkim:PrivateKey" },
        { "no-selector", "Messages:Dkim:Selector" },
        { "no-domain", "Messages:Dkim:Domain" },
        { "both-keys", "Messages:Dkim:PrivateKeyPath" },
        { "1024-bit-key", "Messages:Dkim:PrivateKeyPath" },
    };

    [Theory]
    [MemberData(nameof(BadDkim))]
    public void A_bad_dkim_setting_fails_validation_naming_its_key(string @case, string key)
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var options = Signing(privatePem);
        switch (@case)
        {
            case "missing-file":
                options.Dkim.PrivateKeyPath = Path.Combine(_directory, "nope.pem");
                break;
            case "not-a-key":
                File.WriteAllText(options.Dkim.PrivateKeyPath!, "hello");
                break;
            case "public-key":
                File.WriteAllText(options.Dkim.PrivateKeyPath!, publicPem);
                break;
            case "secret-garbage":
                options.Dkim.PrivateKeyPath = null;
                options.Dkim.PrivateKey = "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----";
                break;
            case "no-selector":
                options.Dkim.Selector = null;
                break;
            case "no-domain":
                options.Dkim.Domain = null;
                break;
            case "both-keys":
                options.Dkim.PrivateKey = privatePem;
                break;
            case "1024-bit-key":
                using (var weak = System.Security.Cryptography.RSA.Create(1024))
                {
                    File.WriteAllText(options.Dkim.PrivateKeyPath!, weak.ExportPkcs8PrivateKeyPem());
                }
                break;
        }

        var result = new MessageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_dkim_key_stops_the_host_from_starting_with_a_message_naming_the_key()
    {
        await using var app = TestApp.Create();
        app.Set("Messages:Dkim:Domain", "example.org").Set("Messages:Dkim:Selector", "news")
            .Set("Messages:Dkim:PrivateKeyPath", Path.Combine(_directory, "missing.pem"));
        using var host = app.BuildHost();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(ex.Failures, f => f.StartsWith("Messages:Dkim:PrivateKeyPath:", StringComparison.Ordinal) && f.Contains("missing.pem", StringComparison.Ordinal));
    }
}
