using Newsletter.Tests.Infrastructure.Databases;
using MimeKit;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// <c>Delivery:PreEncodeBodies</c>: the sender's message takes the pre-encoded path when on, MimeKit's own
/// encoding when off, and the two give the same message. If a MimeKit update stopped writing the
/// pre-encoded bytes as they are, or encoded differently, these fail.
/// </summary>
public class PreEncodeSwitchTests
{
    [DatabaseTheory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task The_pre_encoded_path_is_taken_and_decodes_to_the_bytes_of_mimekits_own_encoding(string edition)
    {
        var issue = new EncodedEmail(await MessageKit.PrepareAsync(MessageKit.Sample(edition)));
        var options = MessageKit.Editions().Get(edition);
        var factory = MessageKit.Factory();
        var fields = new PersonalFields("Zoë Ñúñez 🌱", MessageKit.UnsubscribeUrl(), $"{MessageKit.BaseUrl}/preferences?t=a=b&c=\"d\"");
        var recipient = new Recipient(42, "zoe@example.com", "Zoë Ñúñez 🌱");

        var fast = factory.ForSender(options, issue.Subject, preEncoded: true).Fill(issue, fields, recipient, fields.UnsubscribeUrl, "1.42.1");
        var fastRaw = MessageKit.Serialize(fast);
        var fastParts = Parts(MessageKit.Parse(fastRaw)).Select(p => (Headers: Headers(p), Body: Decoded(p))).ToList();
        var encoded = issue.Personalize(fields);
        var plain = factory.ForSender(options, issue.Subject, preEncoded: false).Fill(issue, fields, recipient, fields.UnsubscribeUrl, "1.42.1");

        // The fast path: parts whose content is the pre-encoded bytes, which MimeKit writes as they are.
        Assert.All(Parts(fast), p => Assert.IsType<PreEncodedTextPart>(p));
        Assert.True(fastRaw.AsSpan().IndexOf(encoded.Html.Span) > 0, "the HTML part was re-encoded");
        Assert.True(fastRaw.AsSpan().IndexOf(encoded.Text.Span) > 0, "the text part was re-encoded");
        // The plain path: MimeKit's own parts, encoding the rendered text itself.
        Assert.All(Parts(plain), p => Assert.IsNotType<PreEncodedTextPart>(p));
        Assert.All(Parts(plain), p => Assert.NotEqual(ContentEncoding.QuotedPrintable, p.Content!.Encoding));
        // Same headers; the same bytes once decoded (the pre-encoded pieces join with soft line breaks, and
        // the pre-encoded part always ends with a line end; MimeKit's ends as the text does).
        Assert.Equal(plain.Headers.Select(h => h.ToString()), fast.Headers.Select(h => h.ToString()));
        Assert.Equal(Parts(MessageKit.Parse(MessageKit.Serialize(plain))).Select(p => (Headers(p), EndingWithLineEnd(Decoded(p), "\r\n"))), fastParts);
    }

    [DatabaseFact]
    public async Task With_pre_encoding_off_a_send_delivers_the_same_bodies()
    {
        var on = await SendAsync(preEncode: true);
        var off = await SendAsync(preEncode: false);

        Assert.Equal(5, on.Count);
        // The pre-encoded parts end with a line end; MimeKit's end with the text.
        Assert.All(on, kv => Assert.Equal(kv.Value.Text, EndingWithLineEnd(off[kv.Key].Text, "\n")));
        Assert.All(on, kv => Assert.Equal(kv.Value.Html, EndingWithLineEnd(off[kv.Key].Html, "\n")));
    }

    /// <summary>A send to five readers through the engine: each reader's decoded text and HTML.</summary>
    private static async Task<Dictionary<string, (string Text, string Html)>> SendAsync(bool preEncode)
    {
        await using var world = await DeliveryWorld.StartAsync(configure: app => app.Set("Delivery:PreEncodeBodies", preEncode ? "true" : "false"));
        await world.AddSubscribersAsync(5);
        var final = await world.RunAsync(await world.PublishAsync());
        Assert.Equal(5, final.Sent);
        return world.Smtp.Messages.ToDictionary(m => m.RcptTo.Single(), m => (WithoutLinkTokens(m.Message.TextBody!), WithoutLinkTokens(m.Message.HtmlBody!)));
    }

    /// <summary>Each database gives its readers their own random link keys, so the two sends' personal links differ.</summary>
    private static string WithoutLinkTokens(string body) =>
        System.Text.RegularExpressions.Regex.Replace(body, "/(unsubscribe|preferences)/[A-Za-z0-9_.-]+", "/$1/TOKEN");

    private static string EndingWithLineEnd(string text, string newLine) =>
        text.EndsWith(newLine, StringComparison.Ordinal) ? text : text + newLine;

    private static List<TextPart> Parts(MimeMessage message) => [.. ((Multipart)message.Body!).OfType<TextPart>()];

    private static string Headers(MimeEntity entity) => string.Join("\n", entity.Headers.Select(h => h.ToString()));

    /// <summary>A part's content decoded from quoted-printable, byte for byte.</summary>
    private static string Decoded(TextPart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
