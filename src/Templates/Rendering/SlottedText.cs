using System.Text;

namespace Newsletter.Templates.Rendering;

/// <summary>The personal parts of an email, each a slot in the prepared HTML and text.</summary>
internal enum SlotKind : byte
{
    Literal,
    Greeting,
    UnsubscribeUrl,
    PreferencesUrl,

    /// <summary>Start of the part shown only when the recipient has a preferences link.</summary>
    IfPreferences,
    EndPreferences,
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

    public static SlotTokens CreateFresh() => new(Guid.NewGuid().ToString("N"));

    private string Token(string name) => Prefix + name + End;

    internal static SlotKind KindOf(string name) => name switch
    {
        "greeting" => SlotKind.Greeting,
        "unsubscribe-url" => SlotKind.UnsubscribeUrl,
        "preferences-url" => SlotKind.PreferencesUrl,
        "if-preferences" => SlotKind.IfPreferences,
        "end-preferences" => SlotKind.EndPreferences,
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
    }

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
    public string Fill(string greeting, string unsubscribeUrl, string? preferencesUrl)
    {
        var builder = new StringBuilder(_literalLength + 64 + (2 * (unsubscribeUrl.Length + (preferencesUrl?.Length ?? 0))));
        var parts = _parts;
        for (var i = 0; i < parts.Length; i++)
        {
            ref readonly var part = ref parts[i];
            switch (part.Kind)
            {
                case SlotKind.Literal:
                    builder.Append(part.Literal);
                    break;
                case SlotKind.Greeting:
                    builder.Append(greeting);
                    break;
                case SlotKind.UnsubscribeUrl:
                    builder.Append(unsubscribeUrl);
                    break;
                case SlotKind.PreferencesUrl:
                    builder.Append(preferencesUrl);
                    break;
                case SlotKind.IfPreferences when preferencesUrl is null:
                    // Skip the whole conditional section; the loop's i++ lands just after its end marker.
                    i = part.SkipTo - 1;
                    break;
            }
        }

        return builder.ToString();
    }

    private readonly record struct Part(SlotKind Kind, string Literal, int SkipTo)
    {
        public static Part Text(string literal) => new(SlotKind.Literal, literal, -1);
    }
}
