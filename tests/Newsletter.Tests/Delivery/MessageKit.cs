using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Newsletter.Subscribers.Tokens;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Templates;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Issues;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// Builds real messages for the message tests without a host: the repository's sample issues
/// rendered with the real renderer, and a <see cref="MessageFactory"/> on options the test chooses.
/// </summary>
internal static class MessageKit
{
    public const string BaseUrl = "https://news.example.org";

    public static readonly DateOnly IssueDate = new(2026, 12, 7);

    public static readonly DateTimeOffset Now = new(2026, 12, 7, 14, 0, 0, TimeSpan.Zero);

    public static string UnsubscribeUrl(int subscriberId = 42) => $"{BaseUrl}/unsubscribe/v1.sub{subscriberId}.signature-of-{subscriberId}";

    public static NewsletterOptions Newsletter(Action<NewsletterOptions>? change = null)
    {
        var options = new NewsletterOptions
        {
            Name = "Steady Ground",
            PublicBaseUrl = BaseUrl,
            SignOff = "Until next time, be gentle with yourself.\nThe Steady Ground team",
            Disclaimer = "This newsletter shares information for general education only. It is not medical or psychological advice.",
            CrisisResources = "If you are in crisis, call or text 988 (US) or your local emergency number right now.",
            PostalAddress = "Steady Ground, 100 Example Street\nSpringfield, USA",
            Language = "en",
            MessageIdDomain = "mail.news.example.org",
        };
        change?.Invoke(options);
        return options;
    }

    /// <summary>The three editions with their built-in defaults (as with no Editions configuration).</summary>
    public static EditionsOptions Editions()
    {
        var editions = new EditionsOptions();
        EditionsExtensions.BindEditions(editions, new ConfigurationBuilder().Build().GetSection(EditionsOptions.Section));
        return editions;
    }

    public static LinkTokenSigner Signer { get; } = new(Convert.FromBase64String(TestApp.FixedTokenSecret));

    public static MessageFactory Factory(MessageOptions? messages = null, TimeProvider? time = null, NewsletterOptions? newsletter = null)
    {
        var m = Options.Create(messages ?? new MessageOptions());
        return new MessageFactory(
            Options.Create(newsletter ?? Newsletter()), m, new DkimSigning(m), new VerpAddresses(m, Signer),
            time ?? new FakeTimeProvider(Now));
    }

    /// <summary>samples/issues/EDITION.md parsed as the queue parses it.</summary>
    public static ParsedIssue Sample(string edition)
    {
        var (parsed, problems) = IssueFile.Parse(File.ReadAllText(TestData.SampleIssuePath(edition)), Editions());
        Assert.True(parsed is not null, string.Join("\n", problems.Select(p => p.Format(edition))));
        return parsed;
    }

    public static async Task<PreparedEmail> PrepareAsync(ParsedIssue issue, NewsletterOptions? newsletter = null)
    {
        var factory = new EditionEmailFactory(Options.Create(newsletter ?? Newsletter()), Options.Create(Editions()));
        return await SampleIssues.Renderer.PrepareAsync(factory.Create(issue, IssueDate));
    }

    /// <summary>A sample issue rendered for Sam, subscriber 42, as the delivery engine personalises it.</summary>
    public static async Task<RenderedEmail> RenderAsync(string edition) =>
        (await PrepareAsync(Sample(edition))).Personalize(new PersonalFields("Sam", UnsubscribeUrl()));

    public static Recipient Sam { get; } = new(42, "sam@example.com", "Sam Rivera");

    /// <summary>A sample issue as the message Sam receives.</summary>
    public static async Task<MimeMessage> BuildAsync(string edition, MessageOptions? messages = null, Recipient? recipient = null)
    {
        var email = await RenderAsync(edition);
        return Factory(messages).Build(Editions().Get(edition), email, recipient ?? Sam, UnsubscribeUrl(), "7.42.1001");
    }

    /// <summary>The message as it goes on the wire: CRLF line ends.</summary>
    public static byte[] Serialize(MimeMessage message)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var stream = new MemoryStream();
        message.WriteTo(format, stream);
        return stream.ToArray();
    }

    public static MimeMessage Parse(byte[] raw) => MimeMessage.Load(new MemoryStream(raw));

    /// <summary>The header block of a serialized message, unfolded: one entry per header, as "Name: value".</summary>
    public static List<string> HeaderLines(byte[] raw)
    {
        var text = Encoding.ASCII.GetString(raw);
        var block = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var headers = new List<string>();
        foreach (var line in block.Split("\r\n"))
        {
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t'))
            {
                headers[^1] += line;
            }
            else
            {
                headers.Add(line);
            }
        }
        return headers;
    }

    public static int Count(List<string> headers, string name) =>
        headers.Count(h => h.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase));

    /// <summary>A fresh 2048-bit RSA key as PEM (PKCS#8 by default, PKCS#1 on request).</summary>
    public static (string PrivatePem, string PublicPem) NewRsaKey(bool pkcs1 = false)
    {
        using var rsa = RSA.Create(2048);
        return (pkcs1 ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportSubjectPublicKeyInfoPem());
    }
}
