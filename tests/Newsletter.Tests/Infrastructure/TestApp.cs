using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Worker;
using Newsletter.Worker.Cli;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Infrastructure;

/// <summary>What a CLI command printed and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>
/// One test's private world: a temp directory holding its SQLite file and pickup folder, and the
/// configuration every way of running the app (an <see cref="IHost"/> built as the CLI builds it,
/// the CLI itself in-process, the web app through <see cref="TestWebApp"/>) is given. Disposing
/// deletes the directory.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string PublicBaseUrl = "https://news.example.org";

    /// <summary>A fixed, valid secret: base64 of 48 bytes.</summary>
    public static readonly string FixedTokenSecret =
        Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 37 + 11)).ToArray());

    /// <summary>A fixed, valid address hash key: base64 of 32 bytes.</summary>
    public static readonly string FixedAddressHashKey =
        Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 53 + 7)).ToArray());

    /// <summary>The keyed hash the app stores for an address under <see cref="FixedAddressHashKey"/>.</summary>
    public static string AddressHash(string email) =>
        new Newsletter.Subscribers.Addresses.AddressHasher(Convert.FromBase64String(FixedAddressHashKey)).Hash(email);

    private TestApp(string directory, DatabaseProvider provider)
    {
        Directory = directory;
        DatabasePath = Path.Combine(directory, "newsletter.db");
        PickupDirectory = Path.Combine(directory, "pickup");
        Provider = provider;
        _serverDatabase = TestDatabases.Create(provider);
        Settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:Newsletter"] = ConnectionString,
            ["Delivery:PickupDirectory"] = PickupDirectory,
            ["Newsletter:Name"] = "Steady Ground",
            ["Newsletter:PublicBaseUrl"] = PublicBaseUrl,
            ["Newsletter:TokenSecret"] = FixedTokenSecret,
            ["Newsletter:AddressHashKey"] = FixedAddressHashKey,
            ["Newsletter:SignOff"] = "Until next time, be gentle with yourself.",
            ["Newsletter:Disclaimer"] = "This newsletter shares information, not professional advice.",
            ["Newsletter:CrisisResources"] = "If you are in crisis, call or text 988 (US) or your local emergency number.",
            ["Newsletter:PostalAddress"] = "Steady Ground, 100 Example Street, Springfield, USA",
            ["Scheduling:Enabled"] = "false",
        };
    }

    /// <summary>The test's own temp directory (deleted on dispose).</summary>
    public string Directory { get; }

    public string DatabasePath { get; }

    public string PickupDirectory { get; }

    /// <summary>The test's database: its SQLite file unless the test runs on a server (<see cref="TestDatabases"/>).</summary>
    public DatabaseProvider Provider { get; }

    private readonly string? _serverDatabase;

    public string ConnectionString => _serverDatabase ?? $"Data Source={DatabasePath}";

    /// <summary>The configuration given to every host of this test; change it with <see cref="Set"/>.</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>A new temp directory and configuration. <paramref name="tokenSecret"/> false leaves
    /// <c>Newsletter:TokenSecret</c> and <c>Newsletter:AddressHashKey</c> out, so the app generates and stores keys.</summary>
    public static TestApp Create(bool tokenSecret = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "newsletter-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var app = new TestApp(directory, TestDatabases.Provider);
        if (!tokenSecret)
        {
            app.Settings.Remove("Newsletter:TokenSecret");
            app.Settings.Remove("Newsletter:AddressHashKey");
        }
        return app;
    }

    /// <summary>Sets a configuration value; null removes the key.</summary>
    public TestApp Set(string key, string? value)
    {
        if (value is null)
        {
            Settings.Remove(key);
        }
        else
        {
            Settings[key] = value;
        }
        return this;
    }

    /// <summary>Delivery through SMTP to 127.0.0.1:<paramref name="port"/>, no TLS.</summary>
    public TestApp UseSmtp(int port) => Set("Delivery:Transport", "Smtp")
        .Set("Smtp:Host", "127.0.0.1")
        .Set("Smtp:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Set("Smtp:Security", "None")
        .Set("Smtp:Timeout", "00:00:15");

    /// <summary>Writes a file into the test's directory and returns its full path.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>
    /// Builds a host as the CLI does (<c>Host.CreateApplicationBuilder</c> with the app's base
    /// directory as content root, so <c>appsettings.json</c> is read, then <c>AddNewsletterCore</c>),
    /// with this test's configuration on top, then applies <paramref name="services"/> (overrides such
    /// as a <c>FakeTimeProvider</c> registered as <see cref="TimeProvider"/>) and prepares the database.
    /// <paramref name="appSettings"/> false uses a content root without <c>appsettings.json</c>, to see
    /// the built-in defaults.
    /// </summary>
    public async Task<TestHost> StartHostAsync(
        Action<IServiceCollection>? services = null, bool appSettings = true, Action<IConfigurationBuilder>? configuration = null)
    {
        var host = BuildHost(services, appSettings, configuration);
        try
        {
            await host.Services.PrepareNewsletterAsync(warmUpTemplates: false);
            return new TestHost(host);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Creates and migrates the test's database, as the service does on its first start:
    /// commands that only read refuse to run without one.</summary>
    public async Task CreateDatabaseAsync()
    {
        await using var host = await StartHostAsync();
    }

    /// <summary>Builds the host without preparing the database or validating anything.</summary>
    public IHost BuildHost(
        Action<IServiceCollection>? services = null, bool appSettings = true, Action<IConfigurationBuilder>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = appSettings ? AppContext.BaseDirectory : Directory,
            ApplicationName = typeof(Program).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(Settings);
        configuration?.Invoke(builder.Configuration);
        builder.AddNewsletterCore();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>Runs <c>newsletter ARGS…</c> in-process with this test's configuration and captures its output.</summary>
    public Task<CliResult> RunCliAsync(params string[] args) => RunCliAsync(args, now: null);

    /// <summary>Runs <c>newsletter ARGS…</c> in-process with the clock at <paramref name="now"/> (when given), and
    /// <paramref name="service"/> as what <c>run</c> starts (when given; otherwise <c>run</c> is refused).</summary>
    public async Task<CliResult> RunCliAsync(
        string[] args, DateTimeOffset? now = null, Func<string[], CancellationToken, Task<int>>? service = null)
    {
        // Synchronized: a send's progress and the engine's log lines may be written from several threads.
        var outputText = new StringWriter();
        var errorText = new StringWriter();
        var output = TextWriter.Synchronized(outputText);
        var error = TextWriter.Synchronized(errorText);
        var exit = await NewsletterCli.RunAsync(args, b =>
        {
            ConfigureCli(b);
            if (now is { } at)
            {
                b.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(at));
            }
        }, output, error, service: service);
        // The synchronized writers lock on themselves (MethodImplOptions.Synchronized).
        lock (output)
        {
            lock (error)
            {
                return new CliResult(exit, outputText.ToString(), errorText.ToString());
            }
        }
    }

    /// <summary>Like <see cref="RunCliAsync"/>, asserting exit code 0.</summary>
    public async Task<CliResult> RunCliOkAsync(params string[] args)
    {
        var result = await RunCliAsync(args);
        Assert.True(result.ExitCode == 0, $"newsletter {string.Join(' ', args)} failed:\n{result}");
        return result;
    }

    /// <summary>What the tests hand the CLI as its <c>configure</c> callback.</summary>
    public void ConfigureCli(IHostApplicationBuilder builder)
    {
        builder.Configuration.AddInMemoryCollection(Settings);
    }

    /// <summary>A web app (the real <c>Program</c>) on this test's configuration. Dispose it.</summary>
    public TestWebApp CreateWebApp(Action<IServiceCollection>? services = null) => new(this, services);

    /// <summary>A DbContext on the test's database, for arranging and checking data directly.</summary>
    public NewsletterDbContext OpenDb() => TestDatabases.Open(Provider, ConnectionString);

    public ValueTask DisposeAsync()
    {
        try
        {
            if (_serverDatabase is not null)
            {
                TestDatabases.Drop(Provider, _serverDatabase);
            }
            // Pooled connections keep the file open; on Linux the delete works regardless, elsewhere
            // the pool must let go first.
            SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>A built and prepared host; scopes give scoped services (DbContext, Publisher…).</summary>
public sealed class TestHost(IHost host) : IAsyncDisposable
{
    public IHost Host { get; } = host;

    public IServiceProvider Services => Host.Services;

    public AsyncServiceScope CreateScope() => Host.Services.CreateAsyncScope();

    /// <summary>Runs <paramref name="action"/> with a fresh scope's instance of <typeparamref name="T"/>.</summary>
    public async Task<TResult> InScopeAsync<T, TResult>(Func<T, Task<TResult>> action) where T : notnull
    {
        await using var scope = CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<T>());
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            Host.Dispose();
        }
    }
}
