using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Publishing;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// One delivery test's world: its own SQLite file (<see cref="TestApp"/>), a real loopback SMTP
/// server (<see cref="TestSmtpServer"/>), a host built as the CLI builds it, and the log lines the
/// app wrote. Retry and throttling delays are configured small so tests wait on conditions, not clocks.
/// </summary>
internal sealed class DeliveryWorld : IAsyncDisposable
{
    public const string Edition = "weekly-tip";

    internal static readonly RazorEmailRenderer SharedRenderer = new();

    private DeliveryWorld(TestApp app, TestSmtpServer smtp, TestHost host, LogCapture logs)
    {
        App = app;
        Smtp = smtp;
        Host = host;
        Logs = logs;
    }

    public TestApp App { get; }

    public TestSmtpServer Smtp { get; }

    public TestHost Host { get; }

    public LogCapture Logs { get; }

    public DeliveryEngine Engine => Host.Services.GetRequiredService<DeliveryEngine>();

    /// <summary>Delivery settings every delivery test starts from (small delays, 4 connections).</summary>
    public static void Defaults(TestApp app) => app
        .Set("Delivery:Connections", "4")
        .Set("Delivery:RetryBaseDelay", "00:00:00.050")
        .Set("Delivery:MaxRetryDelay", "00:00:00.500")
        .Set("Delivery:ThrottleDelay", "00:00:00.050")
        .Set("Delivery:ThrottleRecovery", "00:00:00.200")
        .Set("Delivery:ReconnectDelay", "00:00:00.050")
        .Set("Delivery:ProgressInterval", "00:00:01")
        .Set("Delivery:LeaseDuration", "00:00:30");

    public static async Task<DeliveryWorld> StartAsync(
        SmtpScript? script = null, Action<TestApp>? configure = null, Action<IServiceCollection>? services = null)
    {
        var smtp = await TestSmtpServer.StartAsync(script);
        var app = TestApp.Create().UseSmtp(smtp.Port);
        Defaults(app);
        configure?.Invoke(app);
        var logs = new LogCapture();
        var host = await app.StartHostAsync(collection =>
        {
            collection.AddSingleton<ILoggerProvider>(logs);
            // One compiled set of templates for every delivery test (a compile costs about a second).
            collection.AddSingleton<IEmailRenderer>(SharedRenderer);
            services?.Invoke(collection);
        });
        return new DeliveryWorld(app, smtp, host, logs);
    }

    public static string Email(int i) => $"reader{i}@example.org";

    /// <summary>Whether <paramref name="sql"/> is the engine's claim: the UPDATE of deliveries that
    /// sets a lease owner (a release sets it to NULL; a renewal names it only in its WHERE).</summary>
    public static bool IsClaim(string sql)
    {
        var set = sql.IndexOf("SET", StringComparison.Ordinal);
        var where = sql.IndexOf("WHERE", StringComparison.Ordinal);
        return sql.StartsWith("UPDATE \"Deliveries\"", StringComparison.Ordinal) && set >= 0 && where > set
            && sql[set..where].Contains("\"LeaseOwner\" = @", StringComparison.Ordinal);
    }

    /// <summary>Adds confirmed subscribers reader1…readerN@example.org, subscribed to every edition, in one save.</summary>
    public Task AddSubscribersAsync(int count, int first = 1) => AddSubscribersAsync(App, count, first);

    /// <summary>The same on any test's database.</summary>
    public static async Task AddSubscribersAsync(TestApp app, int count, int first = 1)
    {
        await using var db = app.OpenDb();
        var now = DateTime.SpecifyKind(new DateTime(2026, 1, 5, 12, 0, 0), DateTimeKind.Utc);
        for (var i = first; i < first + count; i++)
        {
            var email = Email(i);
            db.Subscribers.Add(new Subscriber
            {
                Email = email,
                NormalizedEmail = EmailAddress.Normalize(email),
                EmailHash = TestApp.AddressHash(email),
                Name = $"Reader {i}",
                Status = SubscriberStatus.Confirmed,
                CreatedAt = now,
                ConfirmedAt = now,
                Subscriptions = TestData.Editions
                    .Select(e => new Subscription { Edition = e, Status = SubscriptionStatus.Active, SubscribedAt = now }).ToList(),
            });
        }
        await db.SaveChangesAsync();
    }

    /// <summary>Queues a small Tip of the Week issue and publishes it now; returns the publication's id.</summary>
    public async Task<int> PublishAsync(string subject = "Tip of the Week: one small kindness")
    {
        var issueId = await QueueAsync(subject);
        await using var scope = Host.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<Publisher>().PublishNowAsync(issueId);
        return result.Publication!.Id;
    }

    /// <summary>Queues a small Tip of the Week issue; returns its id.</summary>
    public Task<int> QueueAsync(string subject = "Tip of the Week: one small kindness") => QueueAsync(App, subject);

    /// <summary>The same on any test's database.</summary>
    public static async Task<int> QueueAsync(TestApp app, string subject = "Tip of the Week: one small kindness")
    {
        await using var db = app.OpenDb();
        var issue = new Issue
        {
            Edition = Edition,
            Subject = subject,
            BodyMarkdown = "## Try this\n\nDo **one** kind thing for yourself today, however small.\n",
            Status = IssueStatus.Queued,
            QueuedAt = DateTime.SpecifyKind(new DateTime(2026, 1, 5, 12, 0, 0), DateTimeKind.Utc),
        };
        db.Issues.Add(issue);
        await db.SaveChangesAsync();
        return issue.Id;
    }

    public Task<PublicationProgress> RunAsync(int publicationId, CancellationToken cancellationToken = default) =>
        Engine.RunAsync(publicationId, null, cancellationToken);

    public async Task<List<DeliveryRecord>> DeliveriesAsync(int publicationId)
    {
        await using var db = App.OpenDb();
        return await db.Deliveries.AsNoTracking().Where(d => d.PublicationId == publicationId).OrderBy(d => d.SubscriberId).ToListAsync();
    }

    public async Task<Publication> PublicationAsync(int publicationId)
    {
        await using var db = App.OpenDb();
        return await db.Publications.AsNoTracking().FirstAsync(p => p.Id == publicationId);
    }

    public async Task<bool> IsSuppressedAsync(string email)
    {
        await using var db = App.OpenDb();
        var hash = TestApp.AddressHash(email);
        return await db.Suppressions.AnyAsync(s => s.EmailHash == hash);
    }

    /// <summary>How many messages the server accepted for each recipient address.</summary>
    public Dictionary<string, int> ReceivedCounts() => Smtp.Messages
        .SelectMany(m => m.RcptTo)
        .GroupBy(r => r, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("NEWSLETTER_TEST_LOGS") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            await File.WriteAllLinesAsync(Path.Combine(dir, Path.GetFileName(App.Directory) + ".log"),
                Logs.Lines.Select(l => $"{l.Elapsed.TotalMilliseconds,8:0} {l.Level,-11} {l.Category}: {l.Message}"));
        }
        await Host.DisposeAsync();
        await Smtp.DisposeAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Keeps every log line the app writes, for assertions on what the operator is told.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(TimeSpan Elapsed, LogLevel Level, string Category, string Message)> _lines = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private readonly ConcurrentQueue<string> _withException = new();

    public IReadOnlyList<(TimeSpan Elapsed, LogLevel Level, string Category, string Message)> Lines => [.. _lines];

    /// <summary>The lines logged with an exception (which a console log prints as a stack trace).</summary>
    public IReadOnlyList<string> WithException => [.. _withException];

    public bool Contains(LogLevel atLeast, string text) =>
        _lines.Any(l => l.Level >= atLeast && l.Message.Contains(text, StringComparison.OrdinalIgnoreCase));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var message = formatter(state, exception);
                owner._lines.Enqueue((owner._clock.Elapsed, logLevel, category, message));
                if (exception is not null)
                {
                    owner._withException.Enqueue($"{category}: {message}: {exception.GetType().Name}: {exception.Message}");
                }
            }
        }
    }
}
