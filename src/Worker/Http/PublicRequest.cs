using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Newsletter.Worker.Http;

public enum BodyProblem
{
    None,
    TooLarge,
    UnsupportedMediaType,
    Malformed,
}

/// <summary>
/// A public endpoint's request body, read defensively: at most <see cref="MaxBodyBytes"/> (a bigger
/// body is refused before it is read), either form encoding or a JSON object, with every value as
/// plain strings. Nothing is bound automatically, so nothing unexpected is accepted.
/// </summary>
public sealed class PublicRequest
{
    /// <summary>Generous for an address, a name and a few editions; a 10 MB body never gets read.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.OrdinalIgnoreCase);

    private PublicRequest(bool isJson)
    {
        IsJson = isJson;
    }

    /// <summary>The body was JSON: answer with JSON (ProblemDetails for errors), not a page.</summary>
    public bool IsJson { get; }

    public BodyProblem Problem { get; private init; }

    public string ProblemDetail { get; private init; } = "";

    /// <summary>Whether the body named the field at all (a JSON null counts as not named).</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var list) && list.Count > 0 ? list[0] : null;

    /// <summary>Every value of a repeated field; comma-separated values are split too.</summary>
    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var list)
        ? [.. list.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]
        : [];

    /// <summary>Whether a request wants JSON back: a JSON body, or an Accept header that prefers it.</summary>
    public static bool WantsJson(HttpRequest request) =>
        IsJsonContentType(request.ContentType)
        || (request.Headers.Accept.ToString() is { Length: > 0 } accept
            && accept.Contains("json", StringComparison.OrdinalIgnoreCase)
            && !accept.Contains("text/html", StringComparison.OrdinalIgnoreCase));

    public static async Task<PublicRequest> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var json = IsJsonContentType(request.ContentType);
        if (request.ContentLength > MaxBodyBytes)
        {
            return Fail(json, BodyProblem.TooLarge, $"The request body is larger than {MaxBodyBytes / 1024} KB.");
        }
        if (!json && !request.HasFormContentType)
        {
            // No body at all (a bare POST) reads as an empty form: the fields' own checks answer it.
            if (request.ContentLength is null or 0 && string.IsNullOrEmpty(request.ContentType))
            {
                return new PublicRequest(false);
            }
            return Fail(false, BodyProblem.UnsupportedMediaType,
                "Send the form as application/x-www-form-urlencoded or multipart/form-data, or a JSON object as application/json.");
        }

        var size = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (size is { IsReadOnly: false })
        {
            size.MaxRequestBodySize = MaxBodyBytes;
        }
        byte[] body;
        try
        {
            body = await ReadBoundedAsync(request.Body, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = [];
            return Fail(json, BodyProblem.TooLarge, $"The request body is larger than {MaxBodyBytes / 1024} KB.");
        }
        if (body.Length > MaxBodyBytes)
        {
            return Fail(json, BodyProblem.TooLarge, $"The request body is larger than {MaxBodyBytes / 1024} KB.");
        }
        return json ? ParseJson(body) : await ParseFormAsync(request, body, cancellationToken);
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                break; // one byte over is enough to refuse; the rest is never read
            }
        }
        return buffer.ToArray();
    }

    private static async Task<PublicRequest> ParseFormAsync(HttpRequest request, byte[] body, CancellationToken cancellationToken)
    {
        request.Body = new MemoryStream(body, writable: false);
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return Fail(false, BodyProblem.Malformed, "The form could not be read.");
        }
        var result = new PublicRequest(false);
        foreach (var (key, values) in form)
        {
            result.Add(key, values);
        }
        return result;
    }

    private static PublicRequest ParseJson(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException)
        {
            return Fail(true, BodyProblem.Malformed, "The body is not valid JSON.");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Fail(true, BodyProblem.Malformed, "The body must be a JSON object, e.g. {\"email\": \"sam@example.org\", \"editions\": [\"weekly-tip\"]}.");
            }
            var result = new PublicRequest(true);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = property.Name switch
                {
                    "consentTextVersion" or "consentVersion" => "consent_version",
                    _ => property.Name,
                };
                switch (property.Value.ValueKind)
                {
                    case JsonValueKind.String:
                        result.Add(key, property.Value.GetString()!);
                        break;
                    case JsonValueKind.Null:
                        break;
                    case JsonValueKind.Array when property.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                        result.Add(key, StringValues.Empty); // an empty list is named, and means none
                        foreach (var item in property.Value.EnumerateArray())
                        {
                            result.Add(key, item.GetString()!);
                        }
                        break;
                    default:
                        return Fail(true, BodyProblem.Malformed, $"'{Clip(property.Name)}' must be a string (or, for editions, a list of strings).");
                }
            }
            return result;
        }
    }

    private void Add(string key, StringValues values)
    {
        if (!_values.TryGetValue(key, out var list))
        {
            _values[key] = list = [];
        }
        foreach (var value in values)
        {
            if (value is not null)
            {
                list.Add(value);
            }
        }
    }

    private static PublicRequest Fail(bool json, BodyProblem problem, string detail) =>
        new(json) { Problem = problem, ProblemDetail = detail };

    private static bool IsJsonContentType(string? contentType) =>
        contentType is not null && MediaTypeIsJson(contentType.Split(';')[0].Trim());

    private static bool MediaTypeIsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static string Clip(string s) => s.Length <= 40 ? new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray()) : Clip(s[..40]) + "…";
}
