using System.Data.Common;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>
/// The relays' notifications of bounces and complaints: <c>POST /webhooks/ses</c> (Amazon SES through SNS,
/// proven by SNS's signature) and <c>POST /webhooks/postmark</c> (proven by basic authentication with a
/// shared secret). Machine to machine, so no antiforgery token or rate limit; each is 404 until configured.
/// A report is answered 200 once committed (a duplicate too), so the relay stops sending it; 500 only
/// when the database failed, so it is sent again and its key makes the retry count once.
/// </summary>
public static partial class BounceWebhooks
{
    /// <summary>SNS messages are at most 256 KB; the envelope's JSON escaping adds a little.</summary>
    public const int MaxBodyBytes = 320 * 1024;

    private const string LoggerName = "Newsletter.Worker.Bounces.BounceWebhooks";

    public static IEndpointRouteBuilder MapBounceWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/webhooks").DisableAntiforgery();
        group.MapPost("/ses", SesAsync);
        group.MapPost("/postmark", PostmarkAsync);
        return app;
    }

    private static async Task<IResult> SesAsync(
        HttpContext http, IOptions<BouncesOptions> options, SnsVerifier verifier,
        // Explicitly a service: its instance TryParse would otherwise be taken for a binder of the request.
        [FromServices] VerpAddresses verp, BounceProcessor processor,
        IHttpClientFactory clients, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!options.Value.Ses.Enabled)
        {
            return TypedResults.NotFound();
        }
        var logger = loggers.CreateLogger(LoggerName);
        var (body, tooLarge) = await ReadBodyAsync(http.Request, cancellationToken);
        if (tooLarge)
        {
            return Refuse(logger, "ses", StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes / 1024} KB");
        }
        if (SnsMessage.Parse(body, out var problem) is not { } sns)
        {
            return Refuse(logger, "ses", StatusCodes.Status400BadRequest, problem);
        }
        if (await verifier.RefusalAsync(sns, cancellationToken) is { } refusal)
        {
            return Refuse(logger, "ses", StatusCodes.Status403Forbidden, $"SNS message {sns.MessageId}: {refusal}");
        }
        switch (sns.Type)
        {
            case SnsMessage.SubscriptionConfirmation:
                return await ConfirmAsync(sns, options.Value.Ses, clients, logger, cancellationToken);
            case SnsMessage.UnsubscribeConfirmation:
                LogUnsubscribed(logger, sns.TopicArn);
                return TypedResults.Ok(new WebhookAnswer("the subscription was ended; nothing to do", []));
        }
        var reading = SesNotification.Read(sns, verp);
        if (reading.Problem is not null)
        {
            // Signed by SNS for our topic, so sending it again will not help: logged and let go.
            LogNotRead(logger, "ses", sns.MessageId, reading.Problem);
            return TypedResults.Ok(new WebhookAnswer(reading.Problem, []));
        }
        return await ProcessAsync(reading.Reports, reading.Note, processor, logger, "ses", cancellationToken);
    }

    private static async Task<IResult> PostmarkAsync(
        HttpContext http, IOptions<BouncesOptions> options, BounceProcessor processor, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var postmark = options.Value.Postmark;
        if (!postmark.Enabled)
        {
            return TypedResults.NotFound();
        }
        var logger = loggers.CreateLogger(LoggerName);
        if (!HasSecret(http.Request, postmark.Secret!))
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"webhooks\", charset=\"UTF-8\"";
            return Refuse(logger, "postmark", StatusCodes.Status401Unauthorized, "no basic authentication with the Bounces:Postmark:Secret password");
        }
        var (body, tooLarge) = await ReadBodyAsync(http.Request, cancellationToken);
        if (tooLarge)
        {
            return Refuse(logger, "postmark", StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes / 1024} KB");
        }
        var reading = PostmarkNotification.Read(body);
        if (reading.Problem is not null)
        {
            return Refuse(logger, "postmark", StatusCodes.Status400BadRequest, reading.Problem);
        }
        return reading.Report is { } report
            ? await ProcessAsync([report], reading.Note, processor, logger, "postmark", cancellationToken)
            : TypedResults.Ok(new WebhookAnswer(reading.Note, []));
    }

    private static async Task<IResult> ProcessAsync(
        IReadOnlyList<BounceReport> reports, string note, BounceProcessor processor, ILogger logger, string webhook, CancellationToken cancellationToken)
    {
        var outcomes = new List<string>();
        foreach (var report in reports)
        {
            try
            {
                var result = await processor.ProcessAsync(report, cancellationToken);
                outcomes.Add(result.Duplicate ? "Duplicate" : result.Outcome.ToString());
            }
            catch (Exception ex) when (ex is DbException or DbUpdateException)
            {
                LogDatabaseFailed(logger, webhook, ex.GetBaseException().Message);
                return TypedResults.Text("The report could not be stored; send it again later.", "text/plain", statusCode: StatusCodes.Status500InternalServerError);
            }
        }
        return TypedResults.Ok(new WebhookAnswer(note, outcomes));
    }

    /// <summary>SNS asks for a subscription to be confirmed by fetching its SubscribeURL (signed with the rest).</summary>
    private static async Task<IResult> ConfirmAsync(SnsMessage sns, SesOptions ses, IHttpClientFactory clients, ILogger logger, CancellationToken cancellationToken)
    {
        if (SnsHosts.Allowed(sns.SubscribeUrl, ses.AllowedCertificateHosts, out var problem) is not { } url)
        {
            return Refuse(logger, "ses", StatusCodes.Status403Forbidden, $"SNS message {sns.MessageId}: its SubscribeURL is refused: {problem}");
        }
        try
        {
            using var client = clients.CreateClient(SnsVerifier.HttpClientName);
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Refuse(logger, "ses", StatusCodes.Status502BadGateway, $"confirming the subscription to {sns.TopicArn}: SNS answered {(int)response.StatusCode}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Refuse(logger, "ses", StatusCodes.Status502BadGateway, $"confirming the subscription to {sns.TopicArn}: {ex.Message}");
        }
        LogConfirmed(logger, sns.TopicArn);
        return TypedResults.Ok(new WebhookAnswer("subscription confirmed", []));
    }

    /// <summary>Basic authentication whose password is the secret (any user name), compared in constant time.</summary>
    private static bool HasSecret(HttpRequest request, string secret)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return false;
        }
        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        var password = colon < 0 ? "" : credentials[(colon + 1)..];
        // Hashing first makes the comparison's time independent of the lengths too.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(password)), SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>The whole body up to the limit; a larger one is refused before (or as soon as) it is seen.</summary>
    private static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return ([], true);
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBodyBytes + 1L;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes)
                {
                    return ([], true);
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ([], true);
        }
        return (buffer.ToArray(), false);
    }

    private static IResult Refuse(ILogger logger, string webhook, int status, string reason)
    {
        // The reason quotes what the sender sent: kept to one short line, so it cannot forge log lines.
        reason = new string([.. reason.Take(300).Select(c => char.IsControl(c) ? ' ' : c)]);
        LogRefused(logger, webhook, status, reason);
        return TypedResults.Text(char.ToUpperInvariant(reason[0]) + reason[1..] + ".", "text/plain", statusCode: status);
    }

    /// <summary>What was done, for the relay's delivery log: each report's outcome (or Duplicate).</summary>
    public sealed record WebhookAnswer(string Note, IReadOnlyList<string> Outcomes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Webhook} webhook request ({Status}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string webhook, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Webhook} notification ({MessageId}) was not read: {Reason}")]
    private static partial void LogNotRead(ILogger logger, string webhook, string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Confirmed the SNS subscription of /webhooks/ses to {TopicArn}")]
    private static partial void LogConfirmed(ILogger logger, string topicArn);

    [LoggerMessage(Level = LogLevel.Information, Message = "SNS says the subscription of /webhooks/ses to {TopicArn} has ended")]
    private static partial void LogUnsubscribed(ILogger logger, string topicArn);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Webhook} notification could not be stored, so it was answered 500 for the sender to retry: {Error}")]
    private static partial void LogDatabaseFailed(ILogger logger, string webhook, string error);
}
