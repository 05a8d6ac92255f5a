using System.Buffers;
using System.Text;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text, in pieces that are encoded independently and
/// simply concatenated: every piece starts at the beginning of a line and ends at the beginning of
/// one — after its own hard line break when the text ends with a newline, otherwise after a soft
/// line break (<c>=</c> CRLF), which a decoder removes. So a literal segment of an issue can be
/// encoded once and a recipient's name or link, of any length, encoded on its own and put between
/// two such segments, and the result is still valid quoted-printable with every line within
/// <see cref="MaxLineLength"/> characters.
/// </summary>
/// <remarks>
/// Line ends in the text (LF or CRLF) become CRLF hard line breaks; a lone CR is encoded. Printable
/// ASCII other than <c>=</c> is written as is, everything else as <c>=XX</c>. Spaces and tabs are
/// written as is except right before a hard line break, where a transport could strip them (rule 3);
/// before a soft line break they are allowed. Output is 7-bit, CRLF, exactly what goes on the wire,
/// so MimeKit writes it verbatim (the part's content is declared as already quoted-printable).
/// </remarks>
internal static class QuotedPrintable
{
    /// <summary>Longest encoded line, the <c>=</c> of a soft line break included (RFC 2045, rule 5).</summary>
    public const int MaxLineLength = 76;

    /// <summary>Characters of content on a line, leaving room for a soft line break's <c>=</c>.</summary>
    private const int LineContent = MaxLineLength - 1;

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    /// <summary>An upper bound on the encoded size of <paramref name="utf8Bytes"/> bytes of text.</summary>
    public static int MaxEncodedLength(int utf8Bytes)
    {
        // Each byte becomes at most 3 characters (or a line end of 2 for 1); a soft break (3) at most
        // every LineContent - 2 characters; and the closing break.
        var characters = 3L * utf8Bytes;
        return checked((int)(characters + (3 * ((characters / (LineContent - 2)) + 1)) + 3));
    }

    /// <summary>
    /// <paramref name="text"/> as one piece of quoted-printable (see the class remarks). With
    /// <paramref name="final"/> the piece ends with a hard line break instead, a newline being added
    /// when the text has none: the last piece of a body, which must end with a line end.
    /// </summary>
    public static byte[] Encode(string text, bool final) => Encode(text, final, out _);

    /// <inheritdoc cref="Encode(string, bool)"/>
    public static byte[] Encode(string text, bool final, out bool endsWithHardBreak)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var output = new byte[MaxEncodedLength(utf8.Length)];
        var written = Encode(utf8, output, final, out endsWithHardBreak);
        return output.AsSpan(0, written).ToArray();
    }

    /// <summary>
    /// Appends <paramref name="text"/> as one piece of quoted-printable to <paramref name="output"/>;
    /// returns whether the piece ended with a hard line break (false: a soft one, or nothing at all for empty text).
    /// </summary>
    public static bool Append(ReadOnlySpan<char> text, ByteBuffer output)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        byte[]? rented = null;
        var utf8 = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            Encoding.UTF8.GetBytes(text, utf8);
            var destination = output.GetSpan(MaxEncodedLength(length));
            output.Advance(Encode(utf8, destination, final: false, out var hard));
            return hard;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Encodes <paramref name="utf8"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxEncodedLength"/> long); returns the bytes written.</summary>
    public static int Encode(ReadOnlySpan<byte> utf8, Span<byte> destination, bool final, out bool endsWithHardBreak)
    {
        var o = 0;
        var column = 0;
        endsWithHardBreak = false;
        for (var i = 0; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b == (byte)'\n' || (b == (byte)'\r' && i + 1 < utf8.Length && utf8[i + 1] == (byte)'\n'))
            {
                if (b == (byte)'\r')
                {
                    i++;
                }
                destination[o++] = (byte)'\r';
                destination[o++] = (byte)'\n';
                column = 0;
                endsWithHardBreak = true;
                continue;
            }

            endsWithHardBreak = false;
            var literal = b is >= 33 and <= 126 and not (byte)'='
                || (b is (byte)' ' or (byte)'\t' && !BeforeHardBreak(utf8, i + 1, final));
            var width = literal ? 1 : 3;
            if (column + width > LineContent)
            {
                destination[o++] = (byte)'=';
                destination[o++] = (byte)'\r';
                destination[o++] = (byte)'\n';
                column = 0;
            }
            if (literal)
            {
                destination[o++] = b;
            }
            else
            {
                destination[o++] = (byte)'=';
                destination[o++] = Hex[b >> 4];
                destination[o++] = Hex[b & 0xF];
            }
            column += width;
        }

        if (final && !endsWithHardBreak)
        {
            destination[o++] = (byte)'\r';
            destination[o++] = (byte)'\n';
            endsWithHardBreak = true;
        }
        else if (column > 0)
        {
            destination[o++] = (byte)'=';
            destination[o++] = (byte)'\r';
            destination[o++] = (byte)'\n';
        }
        return o;
    }

    /// <summary>True when position <paramref name="next"/> starts a line end (or is the end of a final piece).</summary>
    private static bool BeforeHardBreak(ReadOnlySpan<byte> utf8, int next, bool final) =>
        next >= utf8.Length
            ? final
            : utf8[next] == (byte)'\n' || (utf8[next] == (byte)'\r' && next + 1 < utf8.Length && utf8[next + 1] == (byte)'\n');
}

/// <summary>A growable byte array written front to back; its bytes are handed on without a copy.</summary>
internal sealed class ByteBuffer(int capacity)
{
    private byte[] _buffer = new byte[Math.Max(capacity, 256)];

    public int Length { get; private set; }

    /// <summary>The array holding the bytes written so far (its first <see cref="Length"/> bytes).</summary>
    public byte[] Array => _buffer;

    /// <summary>Room for at least <paramref name="size"/> more bytes.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (Length + size > _buffer.Length)
        {
            System.Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        }
        return _buffer.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;

    /// <summary>Empties the buffer for reuse, with room for at least <paramref name="capacity"/> bytes.</summary>
    public void Reset(int capacity)
    {
        Length = 0;
        if (_buffer.Length < capacity)
        {
            _buffer = new byte[capacity];
        }
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }
}
