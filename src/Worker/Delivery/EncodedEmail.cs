using Newsletter.Templates.Rendering;

namespace Newsletter.Worker.Delivery;

/// <summary>One body part of one recipient's message, already quoted-printable: UTF-8, CRLF, lines within 76.</summary>
public readonly record struct EncodedPart(byte[] Buffer, int Length)
{
    /// <summary>A whole text as one part (previews, test sends): the same encoding as the pre-encoded path.</summary>
    public static EncodedPart Of(string text)
    {
        var bytes = QuotedPrintable.Encode(text, final: true);
        return new EncodedPart(bytes, bytes.Length);
    }

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);
}

/// <summary>A sender's two body buffers, written again for each of its recipients (see <see cref="EncodedEmail.Personalize"/>).</summary>
public sealed class EncodedBodyBuffers
{
    internal ByteBuffer Text { get; } = new(16 * 1024);

    internal ByteBuffer Html { get; } = new(32 * 1024);
}

/// <summary>One recipient's two alternative bodies, ready for <see cref="MessageFactory"/>.</summary>
public readonly record struct EncodedBody(EncodedPart Text, EncodedPart Html);

/// <summary>
/// A prepared issue with its literal text quoted-printable encoded once, for a whole publication run:
/// per recipient only the personal values (greeting, links) are encoded, and the parts are put
/// together by copying bytes. Neither <see cref="MessageFactory"/> nor MimeKit encodes the ~30 KB
/// of body again per message (see <see cref="QuotedPrintable"/> for why the pieces concatenate).
/// </summary>
/// <remarks>
/// What goes where is still decided by <see cref="PreparedEmail"/>: its
/// <see cref="PreparedEmail.Personalize(PersonalFields, IEmailPartWriter, IEmailPartWriter)"/> walks
/// the segments with the same rules as its string form (the greeting, HTML-encoding of values, the
/// preferences section), and this class only supplies the encoded bytes. Immutable after
/// construction: one instance serves every sender of a run.
/// </remarks>
public sealed class EncodedEmail
{
    private readonly EncodedPartTemplate _html;
    private readonly EncodedPartTemplate _text;

    public EncodedEmail(PreparedEmail prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        Prepared = prepared;
        _html = new EncodedPartTemplate(prepared.HtmlSegments);
        _text = new EncodedPartTemplate(prepared.TextSegments);
    }

    public PreparedEmail Prepared { get; }

    public string Subject => Prepared.Subject;

    /// <summary>
    /// Both bodies for one recipient. Same checks as <see cref="PreparedEmail.Personalize(PersonalFields)"/>.
    /// With <paramref name="buffers"/>, the bodies are written into them (a sender's, reused for each
    /// of its recipients: no allocation per message) and are valid until they are used again.
    /// </summary>
    /// <exception cref="ArgumentException">A link is not an absolute http(s) address.</exception>
    public EncodedBody Personalize(PersonalFields fields, EncodedBodyBuffers? buffers = null)
    {
        var html = _html.CreateWriter(buffers?.Html);
        var text = _text.CreateWriter(buffers?.Text);
        Prepared.Personalize(fields, html, text);
        return new EncodedBody(text.Finish(), html.Finish());
    }

    /// <summary>One part's literal segments, each encoded once (by its index in the part's segments).</summary>
    private sealed class EncodedPartTemplate
    {
        private readonly byte[][] _literals;
        private readonly bool[] _endsWithHardBreak;
        private readonly int _capacity;

        public EncodedPartTemplate(IReadOnlyList<EmailSegment> segments)
        {
            _literals = new byte[segments.Count][];
            _endsWithHardBreak = new bool[segments.Count];
            var total = 0;
            for (var i = 0; i < segments.Count; i++)
            {
                if (segments[i].Kind != SlotKind.Literal)
                {
                    _literals[i] = [];
                    continue;
                }
                // The last segment of a part ends the body: with a line end, as a MIME body part should.
                var final = i == segments.Count - 1;
                _literals[i] = QuotedPrintable.Encode(segments[i].Literal, final, out _endsWithHardBreak[i]);
                total += _literals[i].Length;
            }
            // Room for every literal plus typical personal values: one allocation per part and recipient.
            _capacity = total + 1024;
        }

        public Writer CreateWriter(ByteBuffer? reuse)
        {
            reuse?.Reset(_capacity);
            return new Writer(this, reuse ?? new ByteBuffer(_capacity));
        }

        public sealed class Writer(EncodedPartTemplate template, ByteBuffer buffer) : IEmailPartWriter
        {
            private readonly ByteBuffer _buffer = buffer;
            private bool _endsWithHardBreak;

            public void WriteLiteral(int index, string literal)
            {
                var bytes = template._literals[index];
                if (bytes.Length > 0)
                {
                    _buffer.Write(bytes);
                    _endsWithHardBreak = template._endsWithHardBreak[index];
                }
            }

            public void WriteValue(SlotKind slot, string value)
            {
                if (value.Length > 0)
                {
                    _endsWithHardBreak = QuotedPrintable.Append(value, _buffer);
                }
            }

            /// <summary>The part, ending with a line end (a soft line break only joins lines; an empty line after it ends the body).</summary>
            public EncodedPart Finish()
            {
                if (!_endsWithHardBreak)
                {
                    _buffer.Write("\r\n"u8);
                }
                return new EncodedPart(_buffer.Array, _buffer.Length);
            }
        }
    }
}
