using Microsoft.AspNetCore.Http.Features;

namespace Newsletter.Worker.Configuration;

/// <summary>
/// Answers HEAD wherever GET is answered (minimal APIs and Razor Pages map GET only): the request runs as a GET,
/// with the same status and headers, and its body is thrown away. GET never changes anything here, so this is safe.
/// </summary>
public static class HeadRequests
{
    public static IApplicationBuilder UseNewsletterHeadRequests(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }
        var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Request.Method = HttpMethods.Get;
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null, body));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(body);
            context.Request.Method = HttpMethods.Head;
        }
    });
}
