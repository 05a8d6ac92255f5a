using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using Newsletter.Subscribers;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Subscribers;

/// <summary>
/// Sends the sign-up emails (confirmation, "already subscribed"). The public endpoints queue them
/// and answer at once, so a page's answer and timing never depend on the mail server — nor reveal
/// whether an address was already on the list. A message that cannot be sent gives its address's
/// email slot back, so the reader can simply ask again.
/// </summary>
public sealed partial class LifecycleMailer(
    IEmailRenderer renderer, IMailTransport transport, SubscriberLinks links, IServiceScopeFactory scopes,
    IOptions<NewsletterOptions> newsletter, IOptions<EditionsOptions> editions, IOptions<SubscriberOptions> options,
    TimeProvider time, ILogger<LifecycleMailer> logger)
{
    private readonly Channel<LifecycleEmail> _queue = Channel.CreateBounded<LifecycleEmail>(
        new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly Lock _gate = new();
    private int _outstanding;
    private TaskCompletionSource _idle = CompletedSignal();

    internal ChannelReader<LifecycleEmail> Queue => _queue.Reader;

    /// <summary>Queues an email; false (and the slot given back) when the queue is full.</summary>
    public bool Enqueue(LifecycleEmail email)
    {
        lock (_gate)
        {
            if (_outstanding++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        if (_queue.Writer.TryWrite(email))
        {
            return true;
        }
        LogQueueFull(logger, email.SubscriberId);
        _ = ReleaseAsync(email, CancellationToken.None);
        Done();
        return false;
    }

    /// <summary>Completes when every queued email has been sent or given up on (for tests and shutdown).</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            return _idle.Task;
        }
    }

    internal async Task ProcessAsync(LifecycleEmail email, CancellationToken cancellationToken)
    {
        try
        {
            bool sent;
            try
            {
                sent = await SendAsync(email, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex, email.Kind, email.SubscriberId);
                sent = false;
            }
            if (!sent)
            {
                await ReleaseAsync(email, CancellationToken.None);
            }
        }
        finally
        {
            Done();
        }
    }

    /// <summary>Renders and sends one email; true once the mail server accepted it.</summary>
    public async Task<bool> SendAsync(LifecycleEmail email, CancellationToken cancellationToken)
    {
        var editionsOptions = editions.Value;
        var n = newsletter.Value;
        var model = new ConfirmationEmail
        {
            Kind = email.Kind == LifecycleEmailKind.ConfirmSubscription ? ConfirmationKind.ConfirmSubscription : ConfirmationKind.AlreadySubscribed,
            Brand = new NewsletterBrand
            {
                Name = n.Name, PublicBaseUrl = n.BaseUrl, SignOff = n.SignOff, Disclaimer = n.Disclaimer,
                CrisisResources = n.CrisisResources, PostalAddress = n.PostalAddress, Language = n.Language,
            },
            Name = email.Name,
            EditionNames = [.. email.Editions.Select(k => editionsOptions.TryGet(k, out var e) ? e.DisplayName : k)],
            ActionUrl = email.Kind == LifecycleEmailKind.ConfirmSubscription
                ? links.Confirm(email.SubscriberId, email.IssuedAt)
                : links.Preferences(email.SubscriberId),
            LinkLifetimeDays = options.Value.ConfirmationLinkLifetimeDays,
        };
        try
        {
            var rendered = await renderer.RenderConfirmationAsync(model, cancellationToken);
            var message = Build(rendered, email);
            await using var connection = await transport.OpenAsync(cancellationToken);
            var result = await connection.SendAsync(message, (MailboxAddress)message.From[0], (MailboxAddress)message.To[0], cancellationToken);
            if (result.Status == SendStatus.Accepted)
            {
                LogSent(logger, email.Kind, email.SubscriberId);
                return true;
            }
            LogRefused(logger, email.Kind, email.SubscriberId, result.Reply);
            return false;
        }
        catch (MailTransportException ex)
        {
            LogFailed(logger, ex, email.Kind, email.SubscriberId);
            return false;
        }
    }

    private MimeMessage Build(RenderedEmail rendered, LifecycleEmail email)
    {
        var n = newsletter.Value;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(From()));
        message.To.Add(new MailboxAddress(MessageFactory.OneLine(email.Name), email.Email));
        message.Subject = MessageFactory.OneLine(rendered.Subject);
        message.Date = time.GetUtcNow();
        message.MessageId = $"signup.{Guid.CreateVersion7():N}@{n.MessageIdDomain ?? new Uri(n.PublicBaseUrl).Host}";
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

    private async Task ReleaseAsync(LifecycleEmail email, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SubscriptionService>().ReleaseEmailSlotAsync(email, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogReleaseFailed(logger, ex, email.SubscriberId);
        }
    }

    private void Done()
    {
        lock (_gate)
        {
            if (--_outstanding == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource CompletedSignal()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-up email ({Kind}) sent to subscriber {SubscriberId}")]
    private static partial void LogSent(ILogger logger, LifecycleEmailKind kind, int subscriberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-up email ({Kind}) to subscriber {SubscriberId} was refused: {Reply}")]
    private static partial void LogRefused(ILogger logger, LifecycleEmailKind kind, int subscriberId, string reply);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sign-up email ({Kind}) to subscriber {SubscriberId} could not be sent")]
    private static partial void LogFailed(ILogger logger, Exception ex, LifecycleEmailKind kind, int subscriberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-up email queue is full; the email to subscriber {SubscriberId} was not queued")]
    private static partial void LogQueueFull(ILogger logger, int subscriberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the email slot of subscriber {SubscriberId}")]
    private static partial void LogReleaseFailed(ILogger logger, Exception ex, int subscriberId);
}

/// <summary>Drains the sign-up email queue, one message at a time.</summary>
public sealed class LifecycleMailerService(LifecycleMailer mailer) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var email in mailer.Queue.ReadAllAsync(stoppingToken))
            {
                await mailer.ProcessAsync(email, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
