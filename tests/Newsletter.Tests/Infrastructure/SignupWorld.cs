using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.SignupEmails;

using Newsletter.Worker.Links;

namespace Newsletter.Tests.Infrastructure;

/// <summary>
/// The real web app on a test's own SQLite file, sending its sign-up emails over SMTP to a real
/// loopback <see cref="TestSmtpServer"/>; time is a <see cref="FakeTimeProvider"/> the test moves.
/// <see cref="StartAsync"/> with <c>kestrel: true</c> listens on a free loopback port for a browser.
/// </summary>
public sealed class SignupWorld : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 2, 14, 0, 0, TimeSpan.Zero);

    private SignupWorld(TestApp app, TestSmtpServer smtp, SignupWebApp web, FakeTimeProvider time)
    {
        App = app;
        Smtp = smtp;
        Web = web;
        Time = time;
    }

    public TestApp App { get; }

    public TestSmtpServer Smtp { get; }

    public SignupWebApp Web { get; }

    public FakeTimeProvider Time { get; }

    /// <summary>Where a browser reaches the app (Kestrel only).</summary>
    public Uri? BaseAddress { get; private set; }

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Starts the world. <paramref name="app"/> and <paramref name="time"/> continue an
    /// earlier test host's file and clock (the world then owns and disposes the app); <paramref name="services"/>
    /// adds to the app's services (a log provider).</summary>
    public static async Task<SignupWorld> StartAsync(
        Action<TestApp>? configure = null, bool kestrel = false, TestApp? app = null, FakeTimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        app ??= TestApp.Create();
        var smtp = await TestSmtpServer.StartAsync();
        app.UseSmtp(smtp.Port)
            .Set("Subscribers:RateLimit:SubscribePermitLimit", "1000")
            .Set("Subscribers:RateLimit:LinksPermitLimit", "1000");
        configure?.Invoke(app);
        time ??= new FakeTimeProvider(Start);
        var web = new SignupWebApp(app, time, services);
        var world = new SignupWorld(app, smtp, web, time);
        try
        {
            if (kestrel)
            {
                web.UseKestrel(0);
                web.StartServer();
                var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                    .First(a => a.StartsWith("http://", StringComparison.Ordinal));
                world.BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
                world.Client = new HttpClient { BaseAddress = world.BaseAddress };
            }
            else
            {
                world.Client = web.CreateClient(new WebApplicationFactoryClientOptions
                {
                    AllowAutoRedirect = false,
                    BaseAddress = new Uri("https://localhost"),
                });
            }
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
        return world;
    }

    public LifecycleMailer Mailer => Web.Services.GetRequiredService<LifecycleMailer>();

    public LinkTokenSigner Signer => Web.Services.GetRequiredService<LinkTokenSigner>();

    /// <summary>Waits until no sign-up email in the outbox is due or being sent: each has been sent,
    /// given up on, or is waiting for a retry's time (move <see cref="Time"/> to make it due).</summary>
    public Task MailIdleAsync() => Mailer.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Another process of the app on the same database file, clock and settings (dispose it).</summary>
    public SignupWebApp StartAnotherProcess()
    {
        var other = new SignupWebApp(App, Time);
        _ = other.Services; // starts the host, and with it the other sign-up email sender
        return other;
    }

    /// <summary>The outbox, oldest first.</summary>
    public async Task<List<OutgoingEmail>> OutboxAsync()
    {
        await using var db = App.OpenDb();
        return await db.Set<OutgoingEmail>().AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> PostAsync(string path, HttpContent? content = null) => Client.PostAsync(path, content);

    /// <summary>A form sign-up with the usual fields.</summary>
    public Task<HttpResponseMessage> SignUpAsync(string email, string? name = null, params string[] editions)
    {
        var fields = new List<(string, string)> { ("email", email) };
        if (name is not null)
        {
            fields.Add(("name", name));
        }
        fields.AddRange((editions.Length == 0 ? ["weekly-tip"] : editions).Select(e => ("editions", e)));
        return PostAsync("/subscribe", Form([.. fields]));
    }

    /// <summary>Signs up, waits for the confirmation email, and returns the confirmation link's path.</summary>
    public async Task<string> SignUpAndGetLinkAsync(string email, string? name = null, params string[] editions)
    {
        var before = Smtp.Messages.Count;
        var response = await SignUpAsync(email, name, editions);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await Smtp.WaitForMessagesAsync(before + 1, TimeSpan.FromSeconds(30));
        return LinkPath(Smtp.Messages[before].Message, "/confirm/");
    }

    /// <summary>Signs up and confirms; returns the subscriber's id once the welcome the confirmation queued has gone
    /// out too, so a test that counts messages afterwards does not race it.</summary>
    public async Task<int> SubscribeConfirmedAsync(string email, string? name = null, params string[] editions)
    {
        var link = await SignUpAndGetLinkAsync(email, name, editions);
        var confirmed = await PostAsync(link);
        Assert.Equal(System.Net.HttpStatusCode.OK, confirmed.StatusCode);
        await MailIdleAsync();
        await using var db = App.OpenDb();
        return (await db.Subscribers.SingleAsync(s => s.NormalizedEmail == email.ToLowerInvariant())).Id;
    }

    /// <summary>The path of the first link in a message's text part that starts with <paramref name="prefix"/>,
    /// checked to be under the configured public address (the test client then requests it here).</summary>
    public static string LinkPath(MimeMessage message, string prefix)
    {
        var match = Regex.Match(message.TextBody ?? "", Regex.Escape(TestApp.PublicBaseUrl + prefix) + @"[A-Za-z0-9_\-\.]+");
        Assert.True(match.Success, $"no {prefix} link in:\n{message.TextBody}");
        return new Uri(match.Value).AbsolutePath;
    }

    public string UnsubscribeToken(int subscriberId, string edition) => Links.Unsubscribe(LinkKeyOf(subscriberId), edition)[(TestApp.PublicBaseUrl.Length + "/unsubscribe/".Length)..];

    public string PreferencesToken(int subscriberId) => Links.PreferencesToken(LinkKeyOf(subscriberId));

    public LinkBuilder Links => Web.Services.GetRequiredService<LinkBuilder>();

    /// <summary>The key the reader's links name; for a reader who does not exist, a key that names nobody.</summary>
    public string LinkKeyOf(int subscriberId)
    {
        using var db = App.OpenDb();
        return db.Subscribers.Where(s => s.Id == subscriberId).Select(s => s.LinkKey).FirstOrDefault() ?? $"nobody{subscriberId}";
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        await Web.DisposeAsync();
        await Smtp.DisposeAsync();
        await App.DisposeAsync();
    }
}

/// <summary>The real <c>Program</c> on a <see cref="TestApp"/>'s settings, with a fake clock.</summary>
public sealed class SignupWebApp(TestApp app, TimeProvider time, Action<IServiceCollection>? more = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in app.Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton(time));
            more?.Invoke(services);
        });
    }
}

/// <summary>Everything the list holds, as text: equal snapshots mean nothing changed.</summary>
public static class ListSnapshot
{
    public static async Task<string> TakeAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        var text = new StringBuilder();
        foreach (var s in await db.Subscribers.AsNoTracking().Include(x => x.Subscriptions).Include(x => x.ConsentRecords).OrderBy(x => x.Id).ToListAsync())
        {
            text.AppendLine($"S {s.Id} {s.Email} {s.Name} {s.Status} {s.CreatedAt:O} {s.ConfirmedAt:O} {s.LastEmailedAt:O} {s.PausedUntil:O} {s.CrisisRegion}");
            foreach (var x in s.Subscriptions.OrderBy(x => x.Edition))
            {
                text.AppendLine($"  sub {x.Edition} {x.Status} {x.SubscribedAt:O} {x.UnsubscribedAt:O}");
            }
            foreach (var c in s.ConsentRecords.OrderBy(c => c.Id))
            {
                text.AppendLine($"  consent {c.Id} {c.Source} {c.Editions} {c.ConsentedAt:O} {c.ConfirmedAt:O} {c.IpAddress} {c.ConsentTextVersion}");
            }
        }
        // Outbox rows by what they are, not how far sending them got (a sender may be working on them).
        foreach (var e in await db.Set<OutgoingEmail>().AsNoTracking().OrderBy(e => e.Id).ToListAsync())
        {
            text.AppendLine($"E {e.Id} {e.SubscriberId} {e.Kind} {e.Editions} {e.IssuedAt:O} {e.PreviousEmailedAt:O}");
        }
        foreach (var x in await db.Suppressions.AsNoTracking().OrderBy(x => x.Id).ToListAsync())
        {
            text.AppendLine($"X {x.EmailHash} {x.Reason} {x.Note}");
        }
        return text.ToString();
    }

    public static async Task<int> CountAsync(TestApp app)
    {
        await using var db = app.OpenDb();
        return await db.Subscribers.CountAsync();
    }
}

internal static class HttpAssert
{
    public static async Task<string> BodyAsync(HttpResponseMessage response) => await response.Content.ReadAsStringAsync();

    public static void IsHtml(HttpResponseMessage response) =>
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);

    public static void IsProblem(HttpResponseMessage response) =>
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

    public static MultipartFormDataContent Multipart(params (string Key, string Value)[] fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (key, value) in fields)
        {
            content.Add(new StringContent(value), key);
        }
        return content;
    }

    public static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }
}
