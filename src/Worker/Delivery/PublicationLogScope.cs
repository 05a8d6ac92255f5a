using System.Collections;

namespace Newsletter.Worker.Delivery;

/// <summary>The log scope of a send: the publication and edition as fields (JSON logs) and as text.</summary>
internal sealed class PublicationLogScope(int publicationId, string edition) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("PublicationId", publicationId),
        1 => new("Edition", edition),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"publication {publicationId} ({edition})";
}
