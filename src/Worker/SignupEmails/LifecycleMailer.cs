using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using Newsletter.Subscribers;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.SignupEmails;

/// <summary>Wakes the sign-up email sender when an email has been committed to the outbox in this process.</summary>
public sealed class LifecycleEmailSignal : IOutboxSignal
{
    private readonly Channel<int> _channel = Channel.CreateBounded<int>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _channel.Writer.TryWrite(0);

    /// <summary>Returns when notified (a notification that came while nobody waited counts), or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed.
        }
    }
}

/// <summary>
/// Sends the sign-up emails (confirmation, "already subscribed", the welcome) from the list's durable outbox
/// (<see cref="LifecycleOutbox"/>). The public endpoints write an email to the outbox in the same
/// transaction as the sign-up and answer at once, so a page's answer and timing never depend on the
/// mail server — nor reveal whether an address was already on the list — and a crash or restart
/// loses no email: whichever process runs next sends it.
/// </summary>
/// <remarks>
/// One email at a time, over a connection reused while emails are due. The server's answer decides:
/// accepted → sent; 4xx, throttling, unreachable or a broken connection → retried with a back-off
/// (<see cref="LifecycleOutbox.Backoff"/>) up to <c>Subscribers:EmailMaxAttempts</c>; 5xx → given
/// up on at once. Giving up hands the address its email slot back, so the reader can ask again.
/// </remarks>
public sealed partial class LifecycleMailer(
    IEmailRenderer renderer, IMailTransport transport, SubscriberLinks links, IServiceScopeFactory scopes, LifecycleEmailSignal signal,
    IOptions<NewsletterOptions> newsletter, IOptions<EditionsOptions> editions, IOptions<SubscriberOptions> options,
    IOptions<DeliveryOptions> delivery, IOptions<HostOptions> hostOptions, IOptions<LogPrivacyOptions> logPrivacy, TimeProvider time,
    ILogger<LifecycleMailer> logger)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Identifies this process's claims.</summary>
    public string InstanceId { get; } = Delivery.InstanceId.New();

    /// <summary>
    /// Completes once no email is due and none is being sent (by any sender on the database), waking
    /// this process's sender whenever something is due. Needs a running sender
    /// (<see cref="LifecycleMailerService"/>) for any email that is due. For tests and tools.
    /// </summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task progressed;
            lock (_gate)
            {
                progressed = _progress.Task;
            }
            OutboxActivity activity;
            await using (var scope = scopes.CreateAsyncScope())
            {
                activity = await scope.ServiceProvider.GetRequiredService<LifecycleOutbox>().ActivityAsync(cancellationToken);
            }
            if (activity == OutboxActivity.Idle)
            {
                return;
            }
            if (activity == OutboxActivity.Due)
            {
                signal.Notify();
            }
            // Progress here is announced; a sender in another process is only seen by looking again.
            await progressed.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Sends every email that is due, one at a time, until none is due, the mail server cannot be
    /// reached or throttles us (the rest wait for the next pass), or <paramref name="stoppingToken"/>
    /// fires. An email already handed to the server when it fires gets a grace period (part of the
    /// host's shutdown timeout) to be answered and recorded; one not yet sent goes back to the pool.
    /// </summary>
    public async Task SendDueAsync(CancellationToken stoppingToken)
    {
        var grace = hostOptions.Value.ShutdownTimeout * 0.5;
        using var hardStop = new CancellationTokenSource();
        await using var onStop = stoppingToken.Register(() => hardStop.CancelAfter(grace));
        IMailConnection? connection = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await using var scope = scopes.CreateAsyncScope();
                var outbox = scope.ServiceProvider.GetRequiredService<LifecycleOutbox>();
                // Not the stopping token: a claim made must be seen here, to be sent or handed back.
                var email = await outbox.ClaimNextAsync(InstanceId, delivery.Value.LeaseDuration, hardStop.Token);
                if (email is null)
                {
                    return;
                }
                if (stoppingToken.IsCancellationRequested)
                {
                    await outbox.ReleaseAsync(email, CancellationToken.None);
                    return;
                }

                SendResult? result = null;
                string? error = null;
                try
                {
                    var message = await BuildAsync(email, scope.ServiceProvider, hardStop.Token);
                    connection ??= await transport.OpenAsync(hardStop.Token);
                    result = await connection.SendAsync(message, (MailboxAddress)message.From[0], (MailboxAddress)message.To[0], hardStop.Token);
                }
                catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
                {
                    // Stopping, and the server had not answered in time: the email may or may not have
                    // arrived; it goes back to the pool (at-least-once).
                    await outbox.ReleaseAsync(email, CancellationToken.None);
                    return;
                }
                catch (MailTransportException ex)
                {
                    error = ex.Message;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(logger, ex, email.Kind, Name(email));
                    error = $"{ex.GetType().Name}: {AddressMask.Mask(ex.Message)}";
                }

                // Checkpoint: the server's answer is recorded, whatever happens to the host now.
                var keepGoing = await RecordAsync(outbox, email, result, error);
                Progressed();
                if (result is null || result.Status is SendStatus.ConnectionLost or SendStatus.SenderThrottled
                    || connection is { IsOpen: false })
                {
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
                if (!keepGoing)
                {
                    return;
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            Progressed();
        }
    }

    /// <summary>Records one attempt's outcome; false when this pass should stop (server unreachable or throttling).</summary>
    private async Task<bool> RecordAsync(LifecycleOutbox outbox, ClaimedEmail email, SendResult? result, string? error)
    {
        switch (result?.Status)
        {
            case SendStatus.Accepted:
                if (await outbox.MarkSentAsync(email, CancellationToken.None))
                {
                    LogSent(logger, email.Kind, Name(email), email.Attempts + 1);
                }
                else
                {
                    LogLostClaim(logger, email.Kind, Name(email));
                }
                return true;
            case SendStatus.PermanentFailure:
                if (await outbox.GiveUpAsync(email, result.Reply, CancellationToken.None))
                {
                    LogRefused(logger, email.Kind, Name(email), result.Reply);
                }
                return true;
            default:
                var reason = result?.Reply ?? error ?? "unknown error";
                var outcome = await outbox.RetryLaterAsync(email, reason, CancellationToken.None);
                if (outcome == RetryOutcome.WillRetry)
                {
                    LogRetrying(logger, email.Kind, Name(email), email.Attempts + 1, LifecycleOutbox.Backoff(email.Attempts + 1), reason);
                }
                else if (outcome == RetryOutcome.GaveUp)
                {
                    LogGaveUp(logger, email.Kind, Name(email), email.Attempts + 1, reason);
                }
                // The server is unreachable or asks us to slow down: the other emails wait for the next pass.
                return result is { Status: SendStatus.TemporaryFailure or SendStatus.ConnectionLost };
        }
    }

    private async Task<MimeMessage> BuildAsync(ClaimedEmail email, IServiceProvider services, CancellationToken cancellationToken)
    {
        var editionsOptions = editions.Value;
        var n = newsletter.Value;
        // The reader's own crisis line when they chose a region at sign-up, as in every edition they will get.
        var region = await services.GetRequiredService<NewsletterDbContext>().Subscribers.AsNoTracking()
            .Where(s => s.Id == email.SubscriberId).Select(s => s.CrisisRegion).FirstOrDefaultAsync(cancellationToken);
        var brand = new NewsletterBrand
        {
            Name = n.Name, PublicBaseUrl = n.BaseUrl, SignOff = n.SignOff, Disclaimer = n.Disclaimer,
            CrisisResources = services.GetRequiredService<CrisisLines>().LineFor(region) ?? n.CrisisResources,
            PostalAddress = n.PostalAddress, Language = n.Language,
        };
        RenderedEmail rendered;
        if (email.Kind == LifecycleEmailKind.Welcome)
        {
            var welcome = await services.GetRequiredService<WelcomeContent>()
                .BuildAsync(email, services.GetRequiredService<NewsletterDbContext>(), brand, cancellationToken);
            rendered = await renderer.RenderWelcomeAsync(welcome, cancellationToken);
        }
        else
        {
            var model = new ConfirmationEmail
            {
                Kind = email.Kind == LifecycleEmailKind.ConfirmSubscription ? ConfirmationKind.ConfirmSubscription : ConfirmationKind.AlreadySubscribed,
                Brand = brand,
                Name = email.Name,
                EditionNames = [.. email.Editions.Select(k => editionsOptions.TryGet(k, out var e) ? e.DisplayName : k)],
                ActionUrl = email.Kind == LifecycleEmailKind.ConfirmSubscription
                    ? links.Confirm(email.LinkKey, email.IssuedAt)
                    : links.Preferences(email.LinkKey),
                LinkLifetimeDays = options.Value.ConfirmationLinkLifetimeDays,
            };
            rendered = await renderer.RenderConfirmationAsync(model, cancellationToken);
        }

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(From()));
        message.To.Add(new MailboxAddress(MessageFactory.OneLine(email.Name), email.Email));
        message.Subject = MessageFactory.OneLine(rendered.Subject);
        message.Date = time.GetUtcNow();
        // The same Message-ID on every attempt at one outbox row: a duplicate after a crash is
        // recognisably the same message to the receiving side.
        message.MessageId = $"signup.{email.Id}.{new DateTimeOffset(email.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds()}.{email.SubscriberId}"
            + $"@{n.MessageIdDomain ?? new Uri(n.PublicBaseUrl).Host}";
        // Transactional: a reply to the reader's own request, not list mail (RFC 3834).
        message.Headers.Add("Auto-Submitted", "auto-replied");
        message.Body = new MultipartAlternative
        {
            new TextPart(TextFormat.Plain) { Text = rendered.Text, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            new TextPart(TextFormat.Html) { Text = rendered.Html, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
        };
        return message;
    }

    /// <summary>Subscribers:ConfirmationFrom, else the From of the first edition (by key).</summary>
    internal string From()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.ConfirmationFrom))
        {
            return options.Value.ConfirmationFrom;
        }
        var e = editions.Value;
        return e.Get(e.Keys[0]).From;
    }

    private string Name(ClaimedEmail email) => logPrivacy.Value.Name(email.SubscriberId, email.Email);

    /// <summary>Lets <see cref="WhenIdleAsync"/> look again.</summary>
    private void Progressed()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            done = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-up email ({Kind}) sent to subscriber {Subscriber} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, LifecycleEmailKind kind, string subscriber, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-up email ({Kind}) to subscriber {Subscriber} was refused permanently and given up on; the address may ask again at once: {Reply}")]
    private static partial void LogRefused(ILogger logger, LifecycleEmailKind kind, string subscriber, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-up email ({Kind}) to subscriber {Subscriber}: attempt {Attempt} failed, trying again in {Delay}: {Reason}")]
    private static partial void LogRetrying(ILogger logger, LifecycleEmailKind kind, string subscriber, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sign-up email ({Kind}) to subscriber {Subscriber} given up on after {Attempts} attempt(s); the address may ask again at once: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, LifecycleEmailKind kind, string subscriber, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sign-up email ({Kind}) to subscriber {Subscriber} could not be prepared or sent")]
    private static partial void LogFailed(ILogger logger, Exception ex, LifecycleEmailKind kind, string subscriber);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-up email ({Kind}) to subscriber {Subscriber} was accepted after its claim had expired or the person was erased; it may go out twice")]
    private static partial void LogLostClaim(ILogger logger, LifecycleEmailKind kind, string subscriber);
}

/// <summary>The running service's sign-up email sender: sends what is due in the outbox when woken
/// by a sign-up in this process, and every <c>Subscribers:EmailPollInterval</c> otherwise (emails
/// written by another process, retries coming due, claims left by a crashed process).</summary>
public sealed partial class LifecycleMailerService(
    LifecycleMailer mailer, LifecycleEmailSignal signal, IOptions<SubscriberOptions> options, ILogger<LifecycleMailerService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await mailer.SendDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, ex);
            }
            await signal.WaitAsync(options.Value.EmailPollInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending sign-up emails failed; trying again shortly")]
    private static partial void LogPassFailed(ILogger logger, Exception ex);
}
