using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using MimeKit.Encodings;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Delivery;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// The delivery path's bodies: literal text quoted-printable encoded once per issue
/// (<see cref="EncodedEmail"/>), personal values per recipient, bytes concatenated. What a reader's
/// mail program decodes must be exactly what <see cref="PreparedEmail.Personalize(PersonalFields)"/> renders.
/// </summary>
public sealed class PreEncodedBodyTests
{
    private static readonly string LongName =
        string.Concat(Enumerable.Repeat("Zoë-Ñúñez “the second” ", 14)) + "🌱 Whitfield-Okafor";

    /// <summary>Recipients chosen to stress the encoding: non-ASCII, markup, control characters, a
    /// name far longer than a line, links with characters QP and HTML both escape; with and without a preferences link.</summary>
    private static IReadOnlyList<(Recipient Recipient, PersonalFields Fields)> Readers()
    {
        const string baseUrl = MessageKit.BaseUrl;
        var token = new string('x', 150);
        return
        [
            (new Recipient(1, "sam@example.com", "Sam"), new PersonalFields("Sam", $"{baseUrl}/unsubscribe/v1.sub1.sig")),
            (new Recipient(2, "anon@example.com", null), new PersonalFields(null, $"{baseUrl}/unsubscribe/v1.sub2.sig", $"{baseUrl}/preferences/v1.p2")),
            (new Recipient(3, "zoe@example.com", "Zoë Ñúñez 🌱"), new PersonalFields("Zoë Ñúñez 🌱", $"{baseUrl}/unsubscribe/v1.sub3.sig", $"{baseUrl}/preferences?t=a=b&c=\"d\"")),
            (new Recipient(4, "co@example.com", "<b>Sam & Co</b>"), new PersonalFields("<b>Sam & Co</b>", $"{baseUrl}/unsubscribe?t=a1b2&e=weekly-fact&q==x=")),
            (new Recipient(5, "long@example.com", LongName), new PersonalFields(LongName, $"{baseUrl}/unsubscribe/{token}", $"{baseUrl}/preferences/{token}")),
            (new Recipient(6, "ctl@example.com", "Sam\r\nBcc: x@example.com\t "), new PersonalFields("  Sam\r\nBcc: x@example.com\t ", $"{baseUrl}/unsubscribe/v1.sub6.sig")),
            (new Recipient(7, "spaces@example.com", "   "), new PersonalFields("   ", $"{baseUrl}/unsubscribe/v1.sub7.sig", $"{baseUrl}/preferences/v1.p7")),
        ];
    }

    [Theory]
    [MemberData(nameof(MessageStructureTests.Editions), MemberType = typeof(MessageStructureTests))]
    public async Task Pre_encoded_messages_decode_to_exactly_what_personalize_renders_after_a_real_smtp_round_trip(string edition)
    {
        var prepared = await MessageKit.PrepareAsync(MessageKit.Sample(edition));
        var encoded = new EncodedEmail(prepared);
        var factory = MessageKit.Factory();
        var options = MessageKit.Editions().Get(edition);
        var readers = Readers();
        await using var server = await TestSmtpServer.StartAsync();

        await using (var connection = await Transport(server).OpenAsync(CancellationToken.None))
        {
            foreach (var (recipient, fields) in readers)
            {
                var message = factory.Build(options, encoded.Subject, encoded.Personalize(fields), recipient, fields.UnsubscribeUrl, $"1.{recipient.SubscriberId}.1");
                var result = await connection.SendAsync(message, MailboxAddress.Parse("news@example.org"), MailboxAddress.Parse(recipient.Email), CancellationToken.None);
                Assert.Equal(SendStatus.Accepted, result.Status);
            }
        }
        await server.WaitForMessagesAsync(readers.Count, TimeSpan.FromSeconds(15));

        foreach (var (recipient, fields) in readers)
        {
            var received = Assert.Single(server.Messages, m => m.RcptTo.Contains(recipient.Email));
            var expected = prepared.Personalize(fields);
            var parsed = received.Message;

            Assert.Equal(Crlf(expected.Text), Decoded(parsed, "text/plain"));
            Assert.Equal(Crlf(expected.Html), Decoded(parsed, "text/html"));
            Assert.Equal(Lf(expected.Text), parsed.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
            Assert.Equal(Lf(expected.Html), parsed.HtmlBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
            AssertQuotedPrintableLines(BodyLines(received.Raw));
        }
    }

    [Fact]
    public async Task Mimekit_writes_the_pre_encoded_bytes_verbatim_when_signing_and_when_sending()
    {
        var (message, body) = await BuildAsync("weekly-tip", reader: 2);

        var raw = MessageKit.Serialize(message);

        Assert.True(raw.AsSpan().IndexOf(body.Html.Span) > 0, "the HTML part was re-encoded");
        Assert.True(raw.AsSpan().IndexOf(body.Text.Span) > 0, "the text part was re-encoded");
        var parts = ((Multipart)message.Body!).OfType<TextPart>().ToList();
        Assert.All(parts, p => Assert.Equal(ContentEncoding.QuotedPrintable, p.ContentTransferEncoding));
        Assert.All(parts, p => Assert.Equal(ContentEncoding.QuotedPrintable, p.Content!.Encoding));
        Assert.All(parts, p => Assert.Equal("utf-8", p.ContentType.Charset, ignoreCase: true));
    }

    [Fact]
    public async Task The_raw_write_short_cut_produces_exactly_the_bytes_mimekit_would()
    {
        var (message, _) = await BuildAsync("monthly-spotlight", reader: 4);
        var parts = ((Multipart)message.Body!).OfType<TextPart>().ToList();
        Assert.Equal(2, parts.Count);

        foreach (var part in parts)
        {
            Assert.IsType<PreEncodedTextPart>(part);
            // MimeKit's own part with the same headers and the same already-encoded content.
            var plain = new TextPart(part.ContentType.MediaSubtype) { ContentTransferEncoding = ContentEncoding.QuotedPrintable, Content = part.Content };
            plain.ContentType.Charset = part.ContentType.Charset;
            Assert.Equal(part.Headers.Select(h => h.ToString()), plain.Headers.Select(h => h.ToString()));

            foreach (var format in new[] { NewLineFormat.Dos, NewLineFormat.Unix })
            {
                var options = FormatOptions.Default.Clone();
                options.NewLineFormat = format;
                foreach (var contentOnly in new[] { false, true })
                {
                    Assert.Equal(Write(plain, options, contentOnly), Write(part, options, contentOnly));
                    Assert.Equal(Write(plain, options, contentOnly), await WriteAsync(part, options, contentOnly));
                }
            }
        }

        static string Write(MimeEntity entity, FormatOptions options, bool contentOnly)
        {
            using var stream = new MemoryStream();
            entity.WriteTo(options, stream, contentOnly);
            return Encoding.ASCII.GetString(stream.ToArray());
        }

        static async Task<string> WriteAsync(MimeEntity entity, FormatOptions options, bool contentOnly)
        {
            using var stream = new MemoryStream();
            await entity.WriteToAsync(options, stream, contentOnly);
            return Encoding.ASCII.GetString(stream.ToArray());
        }
    }

    [Fact]
    public async Task A_pre_encoded_message_signed_with_dkim_still_verifies_after_a_real_smtp_server()
    {
        var (privatePem, publicPem) = MessageKit.NewRsaKey();
        var options = new MessageOptions { Dkim = { Domain = "example.org", Selector = "news2026", PrivateKey = privatePem } };
        var prepared = await MessageKit.PrepareAsync(MessageKit.Sample("monthly-spotlight"));
        var (recipient, fields) = Readers()[4];
        var message = MessageKit.Factory(options).Build(MessageKit.Editions().Get("monthly-spotlight"), prepared.Subject,
            new EncodedEmail(prepared).Personalize(fields), recipient, fields.UnsubscribeUrl, "1.5.1");
        await using var server = await TestSmtpServer.StartAsync();

        await using (var connection = await Transport(server).OpenAsync(CancellationToken.None))
        {
            Assert.Equal(SendStatus.Accepted, (await connection.SendAsync(message, MailboxAddress.Parse("news@example.org"), MailboxAddress.Parse(recipient.Email), CancellationToken.None)).Status);
        }
        await server.WaitForMessagesAsync(1, TimeSpan.FromSeconds(15));

        var received = MimeMessage.Load(new MemoryStream(Assert.Single(server.Messages).Raw));
        var key = (AsymmetricKeyParameter)new PemReader(new StringReader(publicPem)).ReadObject();
        Assert.True(new DkimVerifier(new SingleKeyLocator(key)).Verify(received, received.Headers[received.Headers.IndexOf(HeaderId.DkimSignature)]));
    }

    [Fact]
    public async Task The_preview_path_encodes_a_whole_rendered_email_the_same_way()
    {
        var email = await MessageKit.RenderAsync("weekly-fact");
        var raw = MessageKit.Serialize(MessageKit.Factory().Build(MessageKit.Editions().Get("weekly-fact"), email, MessageKit.Sam, MessageKit.UnsubscribeUrl(), "1.1.1"));
        var parsed = MessageKit.Parse(raw);

        Assert.Equal(Crlf(email.Html), Decoded(parsed, "text/html"));
        Assert.Equal(Crlf(email.Text), Decoded(parsed, "text/plain"));
        AssertQuotedPrintableLines(BodyLines(raw));
    }

    /// <summary>Pieces encoded on their own and concatenated decode to the concatenated text, whatever
    /// their lengths and wherever they were cut: mid-line, mid-word, before or after spaces and newlines.</summary>
    [Fact]
    public void Independently_encoded_pieces_concatenate_into_valid_quoted_printable()
    {
        var random = new Random(20261207);
        const string alphabet = "abcdefghij ABC=.\t\n\n\r\n<>&\"'é—🌱ü€\u00a0 ";
        var elements = new List<string>();
        for (var i = 0; i < alphabet.Length; i++)
        {
            // Keep surrogate pairs and CRLF together as one element.
            if (char.IsHighSurrogate(alphabet[i]) || (alphabet[i] == '\r' && i + 1 < alphabet.Length && alphabet[i + 1] == '\n'))
            {
                elements.Add(alphabet.Substring(i++, 2));
            }
            else
            {
                elements.Add(alphabet[i].ToString());
            }
        }

        for (var run = 0; run < 400; run++)
        {
            var pieces = Enumerable.Range(0, random.Next(1, 8))
                .Select(_ => string.Concat(Enumerable.Range(0, random.Next(0, run % 5 == 0 ? 400 : 90)).Select(_ => elements[random.Next(elements.Count)])))
                .ToList();
            var buffer = new ByteBuffer(16);
            var endsHard = false;
            foreach (var piece in pieces)
            {
                if (piece.Length > 0)
                {
                    endsHard = QuotedPrintable.Append(piece, buffer);
                }
            }
            var encoded = buffer.Array.AsSpan(0, buffer.Length).ToArray();
            var text = string.Concat(pieces);

            Assert.Equal(text.Length == 0 || endsHard ? 0 : 3, encoded.AsSpan().EndsWith("=\r\n"u8) ? 3 : 0);
            AssertQuotedPrintableLines(Lines(encoded));
            Assert.Equal(Crlf(text, addFinalNewline: false), DecodeQuotedPrintable(encoded));
        }
    }

    [Theory]
    [InlineData("", "\r\n")]
    [InlineData("a", "a\r\n")]
    [InlineData("a \n", "a=20\r\n")]
    [InlineData("a\t", "a=09\r\n")]
    [InlineData("x = y\r\n", "x =3D y\r\n")]
    [InlineData("café", "caf=C3=A9\r\n")]
    [InlineData("a\rb", "a=0Db\r\n")]
    public void A_final_piece_ends_with_a_hard_line_break_and_encodes_what_a_transport_could_change(string text, string expected)
    {
        Assert.Equal(expected, Encoding.ASCII.GetString(QuotedPrintable.Encode(text, final: true)));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("Hi Sam,", "Hi Sam,=\r\n")]
    [InlineData("ends with a space ", "ends with a space =\r\n")]
    [InlineData("line\n", "line\r\n")]
    public void A_piece_ends_with_a_soft_line_break_unless_its_text_ends_with_a_newline(string text, string expected)
    {
        Assert.Equal(expected, Encoding.ASCII.GetString(QuotedPrintable.Encode(text, final: false)));
    }

    /// <summary>One reader's message of the edition's sample issue, built the delivery path's way; and its encoded body.</summary>
    private static async Task<(MimeMessage Message, EncodedBody Body)> BuildAsync(string edition, int reader)
    {
        var prepared = await MessageKit.PrepareAsync(MessageKit.Sample(edition));
        var (recipient, fields) = Readers()[reader];
        var body = new EncodedEmail(prepared).Personalize(fields);
        var message = MessageKit.Factory().Build(MessageKit.Editions().Get(edition), prepared.Subject, body, recipient,
            fields.UnsubscribeUrl, $"1.{recipient.SubscriberId}.1");
        return (message, body);
    }

    private static SmtpTransport Transport(TestSmtpServer server) => new(
        Options.Create(new SmtpOptions { Host = server.Host, Port = server.Port, Security = SmtpSecurity.None, Timeout = TimeSpan.FromSeconds(15) }),
        NullLogger<SmtpTransport>.Instance);

    /// <summary>The rendered text as a reader's program decodes it: CRLF line ends, ending with one (as the body part does).</summary>
    private static string Crlf(string text, bool addFinalNewline = true)
    {
        var crlf = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return addFinalNewline && !crlf.EndsWith("\r\n", StringComparison.Ordinal) ? crlf + "\r\n" : crlf;
    }

    private static string Lf(string text) => Crlf(text).Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>A part's content decoded from quoted-printable and from UTF-8, byte for byte (no newline conversion by a reader).</summary>
    private static string Decoded(MimeMessage message, string mimeType)
    {
        var part = message.BodyParts.OfType<TextPart>().Single(p => p.ContentType.MimeType == mimeType);
        Assert.Equal(ContentEncoding.QuotedPrintable, part.ContentTransferEncoding);
        Assert.Equal("utf-8", part.ContentType.Charset, ignoreCase: true);
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(stream.ToArray());
    }

    private static string DecodeQuotedPrintable(byte[] encoded)
    {
        var decoder = new QuotedPrintableDecoder();
        var output = new byte[decoder.EstimateOutputLength(encoded.Length)];
        var n = decoder.Decode(encoded, 0, encoded.Length, output);
        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(output, 0, n);
    }

    /// <summary>The lines of both body parts (between the first MIME boundary and the last), without their CRLF.</summary>
    private static List<string> BodyLines(byte[] raw)
    {
        var text = Encoding.ASCII.GetString(raw);
        Assert.DoesNotContain(raw, b => b > 127);
        var lines = text.Split("\r\n").ToList();
        var blank = lines.IndexOf("");
        var boundary = lines.Skip(blank).First(l => l.StartsWith("--", StringComparison.Ordinal));
        var body = new List<string>();
        var headers = false;
        foreach (var line in lines.Skip(lines.IndexOf(boundary)))
        {
            if (line.StartsWith(boundary, StringComparison.Ordinal))
            {
                headers = true;
                continue;
            }
            if (headers)
            {
                headers = line.Length > 0;
                continue;
            }
            body.Add(line);
        }
        Assert.True(body.Count > 100, "the parts were not found");
        return body;
    }

    private static List<string> Lines(byte[] encoded)
    {
        var text = Encoding.ASCII.GetString(encoded);
        Assert.DoesNotContain(encoded, b => b > 127);
        Assert.True(text.Length == 0 || text.EndsWith("\r\n", StringComparison.Ordinal), "a piece must end with a line end");
        var lines = text.Split("\r\n").ToList();
        lines.RemoveAt(lines.Count - 1);
        Assert.All(lines, l => Assert.DoesNotContain('\r', l));
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
        return lines;
    }

    /// <summary>RFC 2045 §6.7: lines of at most 76 characters; printable ASCII; no space or tab
    /// right before a hard line break; "=" only as "=XX" or a soft line break.</summary>
    private static void AssertQuotedPrintableLines(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            Assert.True(line.Length <= QuotedPrintable.MaxLineLength, $"a line of {line.Length} characters: {line}");
            Assert.All(line, c => Assert.True(c is '\t' || c is >= ' ' and <= '~', $"raw character {(int)c} in: {line}"));
            Assert.False(line.EndsWith(' ') || line.EndsWith('\t'), $"whitespace before a hard line break: [{line}]");
            for (var i = line.IndexOf('='); i >= 0; i = line.IndexOf('=', i + 1))
            {
                var soft = i == line.Length - 1;
                Assert.True(soft || (i + 2 < line.Length && Uri.IsHexDigit(line[i + 1]) && Uri.IsHexDigit(line[i + 2])), $"a bare '=' in: {line}");
            }
        }
    }

    private sealed class SingleKeyLocator(AsymmetricKeyParameter key) : IDkimPublicKeyLocator
    {
        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => key;

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(key);
    }
}
