using System.Text;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// What one segment of a prepared email part is: literal text, or one of the personal parts of an
/// email, each a slot in the prepared HTML and text.
/// </summary>
public enum SlotKind : byte
{
    Literal,
    Greeting,
    UnsubscribeUrl,
    PreferencesUrl,

    /// <summary>Start of the part shown only when the recipient has a preferences link.</summary>
    IfPreferences,
    EndPreferences,

    /// <summary>The crisis-resources sentence for the recipient's region.</summary>
    CrisisLine,
}

/// <summary>
/// One segment of a prepared email part, in document order: literal text (<see cref="SlotKind.Literal"/>,
/// the same for every recipient), or a personal slot (<see cref="Literal"/> is then empty).
/// </summary>
public readonly record struct EmailSegment(SlotKind Kind, string Literal);

/// <summary>
/// Receives one part of a prepared email, segment by segment, as
/// <see cref="PreparedEmail.Personalize(PersonalFields, IEmailPartWriter, IEmailPartWriter)"/> fills it
/// for one recipient: the literal segments by their index in the part's segments (so a writer can
/// use something it prepared once per issue for each of them), and the recipient's values. Sections
/// left out for this recipient are never written.
/// </summary>
public interface IEmailPartWriter
{
    /// <summary>The literal segment at <paramref name="index"/> of the part's segments.</summary>
    void WriteLiteral(int index, string literal);

    /// <summary>A personal value, already encoded for the part: HTML-encoded in the HTML part, as written in the text part.</summary>
    void WriteValue(SlotKind slot, string value);
}

/// <summary>
/// The placeholder tokens of one prepared issue. Each issue gets a fresh random nonce, so nothing an
/// editor writes (and nothing in a subscriber's name) can ever be mistaken for a slot.
/// Tokens are plain ASCII letters, digits, <c>[</c>, <c>]</c> and <c>:</c>: they pass unchanged through
/// Razor's HTML encoder, Markdig and PreMailer's HTML parser, in text and in attribute values alike.
/// </summary>
internal sealed class SlotTokens
{
    private const string End = "]]";

    public SlotTokens(string nonce)
    {
        Prefix = $"[[nl:{nonce}:";
    }

    public string Prefix { get; }

    public string Greeting => Token("greeting");

    public string UnsubscribeUrl => Token("unsubscribe-url");

    public string PreferencesUrl => Token("preferences-url");

    public string IfPreferences => Token("if-preferences");

    public string EndPreferences => Token("end-preferences");

    public string CrisisLine => Token("crisis-line");

    public static SlotTokens CreateFresh() => new(Guid.NewGuid().ToString("N"));

    private string Token(string name) => Prefix + name + End;

    internal static SlotKind KindOf(string name) => name switch
    {
        "greeting" => SlotKind.Greeting,
        "unsubscribe-url" => SlotKind.UnsubscribeUrl,
        "preferences-url" => SlotKind.PreferencesUrl,
        "if-preferences" => SlotKind.IfPreferences,
        "end-preferences" => SlotKind.EndPreferences,
        "crisis-line" => SlotKind.CrisisLine,
        _ => throw new InvalidOperationException($"The template uses an unknown personal slot '{name}'."),
    };

    internal static string EndMarker => End;
}

/// <summary>
/// A document split once into literal segments and personal slots, so that filling it for a
/// recipient is nothing but appending strings. Immutable: one instance serves every sender thread.
/// </summary>
internal sealed class SlottedText
{
    private readonly Part[] _parts;
    private readonly int _literalLength;

    private SlottedText(Part[] parts)
    {
        _parts = parts;
        _literalLength = parts.Where(p => p.Kind == SlotKind.Literal).Sum(p => p.Literal.Length);
        Segments = Array.AsReadOnly(parts.Select(p => new EmailSegment(p.Kind, p.Literal)).ToArray());
    }

    /// <summary>The segments in document order; <see cref="IEmailPartWriter.WriteLiteral"/> indexes into this list.</summary>
    public IReadOnlyList<EmailSegment> Segments { get; }

    /// <summary>How many times each slot kind appears (for sizing the output).</summary>
    public int Count(SlotKind kind) => _parts.Count(p => p.Kind == kind);

    /// <summary>
    /// Splits <paramref name="source"/> at every token of <paramref name="tokens"/>. When
    /// <paramref name="markersInComments"/> is set, the conditional markers sit inside HTML comments
    /// (<c>&lt;!--token--&gt;</c>) so that HTML parsers keep them in place; the comment is dropped with the marker.
    /// </summary>
    public static SlottedText Parse(string source, SlotTokens tokens, bool markersInComments)
    {
        const string commentOpen = "<!--";
        const string commentClose = "-->";

        var parts = new List<Part>();
        var open = new Stack<int>();
        var position = 0;
        while (true)
        {
            var start = source.IndexOf(tokens.Prefix, position, StringComparison.Ordinal);
            if (start < 0)
            {
                break;
            }

            var nameStart = start + tokens.Prefix.Length;
            var nameEnd = source.IndexOf(SlotTokens.EndMarker, nameStart, StringComparison.Ordinal);
            if (nameEnd < 0)
            {
                throw new InvalidOperationException("A personal slot in the template is not closed.");
            }

            var kind = SlotTokens.KindOf(source[nameStart..nameEnd]);
            var literalEnd = start;
            var next = nameEnd + SlotTokens.EndMarker.Length;
            if (markersInComments && kind is SlotKind.IfPreferences or SlotKind.EndPreferences)
            {
                if (source.AsSpan(position, start - position).EndsWith(commentOpen, StringComparison.Ordinal))
                {
                    literalEnd -= commentOpen.Length;
                }

                if (source.AsSpan(next).StartsWith(commentClose, StringComparison.Ordinal))
                {
                    next += commentClose.Length;
                }
            }

            if (literalEnd > position)
            {
                parts.Add(Part.Text(source[position..literalEnd]));
            }

            switch (kind)
            {
                case SlotKind.IfPreferences:
                    open.Push(parts.Count);
                    parts.Add(new Part(kind, "", -1));
                    break;
                case SlotKind.EndPreferences:
                    if (open.Count == 0)
                    {
                        throw new InvalidOperationException("The template ends a preferences section it never started.");
                    }

                    var opener = open.Pop();
                    parts[opener] = parts[opener] with { SkipTo = parts.Count + 1 };
                    parts.Add(new Part(kind, "", -1));
                    break;
                default:
                    parts.Add(new Part(kind, "", -1));
                    break;
            }

            position = next;
        }

        if (open.Count > 0)
        {
            throw new InvalidOperationException("The template starts a preferences section it never ends.");
        }

        if (position < source.Length)
        {
            parts.Add(Part.Text(source[position..]));
        }

        return new SlottedText([.. parts]);
    }

    /// <summary>Fills the slots with values already encoded for this document (HTML-encoded for HTML, raw for text).</summary>
    public string Fill(string greeting, string unsubscribeUrl, string? preferencesUrl, string crisisLine)
    {
        var writer = new BuilderWriter(_literalLength + 64 + crisisLine.Length + (2 * (unsubscribeUrl.Length + (preferencesUrl?.Length ?? 0))));
        Fill(writer, greeting, unsubscribeUrl, preferencesUrl, crisisLine);
        return writer.ToString();
    }

    /// <summary>
    /// Walks the document for one recipient, handing <paramref name="writer"/> each literal segment and
    /// each value (already encoded for this document) in order. The conditional preferences section is
    /// skipped whole when there is no preferences link. The one place these rules live: every way of
    /// filling a prepared email goes through here.
    /// </summary>
    public void Fill(IEmailPartWriter writer, string greeting, string unsubscribeUrl, string? preferencesUrl, string crisisLine)
    {
        var parts = _parts;
        for (var i = 0; i < parts.Length; i++)
        {
            ref readonly var part = ref parts[i];
            switch (part.Kind)
            {
                case SlotKind.Literal:
                    writer.WriteLiteral(i, part.Literal);
                    break;
                case SlotKind.Greeting:
                    writer.WriteValue(SlotKind.Greeting, greeting);
                    break;
                case SlotKind.UnsubscribeUrl:
                    writer.WriteValue(SlotKind.UnsubscribeUrl, unsubscribeUrl);
                    break;
                case SlotKind.CrisisLine:
                    writer.WriteValue(SlotKind.CrisisLine, crisisLine);
                    break;
                case SlotKind.PreferencesUrl when preferencesUrl is not null:
                    writer.WriteValue(SlotKind.PreferencesUrl, preferencesUrl);
                    break;
                case SlotKind.IfPreferences when preferencesUrl is null:
                    // Skip the whole conditional section; the loop's i++ lands just after its end marker.
                    i = part.SkipTo - 1;
                    break;
            }
        }
    }

    /// <summary>Fills into a string.</summary>
    private sealed class BuilderWriter(int capacity) : IEmailPartWriter
    {
        private readonly StringBuilder _builder = new(capacity);

        public void WriteLiteral(int index, string literal) => _builder.Append(literal);

        public void WriteValue(SlotKind slot, string value) => _builder.Append(value);

        public override string ToString() => _builder.ToString();
    }

    private readonly record struct Part(SlotKind Kind, string Literal, int SkipTo)
    {
        public static Part Text(string literal) => new(SlotKind.Literal, literal, -1);
    }
}
