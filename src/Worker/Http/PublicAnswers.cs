using Microsoft.AspNetCore.Http.HttpResults;

namespace Newsletter.Worker.Http;

/// <summary>The shared refusals of the public endpoints: a page for a browser, ProblemDetails for JSON.
/// Each one is given before anything is changed.</summary>
internal static class PublicAnswers
{
    /// <summary>The answer to a body that could not be read (too large, wrong type, malformed).</summary>
    public static IResult BadBody(PublicRequest body, string newsletterName)
    {
        var (status, title, text) = body.Problem switch
        {
            BodyProblem.TooLarge => (StatusCodes.Status413PayloadTooLarge, "That was too much to read",
                "The form sent far more than a sign-up needs, so we didn't read it. Nothing was changed."),
            BodyProblem.UnsupportedMediaType => (StatusCodes.Status415UnsupportedMediaType, "That request could not be read",
                "The request wasn't sent as a form or as JSON. Nothing was changed."),
            _ => (StatusCodes.Status400BadRequest, "That request could not be read",
                "Part of the request was garbled on the way. Nothing was changed; please go back and try again."),
        };
        return body.IsJson || body.Problem == BodyProblem.UnsupportedMediaType
            ? Problem(status, title, body.ProblemDetail)
            : Page.Html(title, $"<h1>{Page.Encode(title)}</h1><p>{Page.Encode(text)}</p>", newsletterName, status);
    }

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    public static IResult Validation(IReadOnlyDictionary<string, string> errors, string title) =>
        TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => new[] { e.Value }), title: title,
            detail: "Nothing was changed. Correct the fields named in 'errors' and send it again.");

    /// <summary>A link whose token is malformed, truncated, forged or for something else.</summary>
    public static IResult BadLink(bool json, string newsletterName) => json
        ? Problem(StatusCodes.Status400BadRequest, "This link does not work", "The link's token is not valid. Nothing was changed.")
        : Page.Html("This link does not work", """
            <h1>This link does not work</h1>
            <p>It may have been cut short when it was copied, or a character may have gone missing. Please open it straight from the email, or copy the whole address.</p>
            <p class="note">Nothing was changed.</p>
            """, newsletterName, StatusCodes.Status400BadRequest);
}
