using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>The service's start-up warm-up send: real engine, scratch database, a discard server on
/// the loopback; nothing reaches the configured SMTP server or the service's database.</summary>
[Collection(nameof(WarmUpTests))] // each test looks for leftover scratch directories in the temp folder
public sealed class WarmUpTests
{
    private const string ScratchPrefix = "newsletter-warm-up-";

    [Fact]
    public async Task The_warm_up_sends_to_a_discard_server_and_leaves_the_service_and_its_server_untouched()
    {
        var leftovers = ScratchDirectories();
        await using var world = await DeliveryWorld.StartAsync(configure: app => app.Set("Delivery:WarmUpMessages", "60"));
        await world.AddSubscribersAsync(3);

        var sent = await world.Host.Services.GetRequiredService<DeliveryWarmUp>().RunAsync(CancellationToken.None);

        Assert.Equal(60, sent);
        Assert.Equal(0, world.Smtp.ConnectionCount); // the configured server never heard of it
        await using (var db = world.App.OpenDb())
        {
            Assert.Equal(3, await db.Subscribers.CountAsync());
            Assert.Equal(0, await db.Issues.CountAsync());
            Assert.Equal(0, await db.Publications.CountAsync());
            Assert.Equal(0, await db.Deliveries.CountAsync());
        }
        Assert.Empty(ScratchDirectories().Except(leftovers));
        Assert.True(world.Logs.Contains(LogLevel.Information, "Delivery path warmed up: 60 messages"),
            string.Join("\n", world.Logs.Lines.Select(l => l.Message)));

        // The service itself still sends as before, after the warm-up, to its own server.
        var publicationId = await world.PublishAsync();
        var final = await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, final.Sent);
        Assert.Equal(3, world.ReceivedCounts().Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(64)]
    public void The_warm_up_claims_a_few_deliveries_at_a_time_so_code_run_once_per_claim_runs_often_enough_to_be_optimised(int connections)
    {
        var service = new DeliveryOptions { Connections = connections };

        var settings = DeliveryWarmUp.ScratchSettings(service, "Data Source=scratch.db", 2525);

        // Each sender claims BatchSize / Connections; the app's runtime optimises a method after
        // 1,000 calls, which code run a few times per claim reaches in 200 claims.
        var claim = int.Parse(settings["Delivery:BatchSize"]!) / connections;
        Assert.Equal(DeliveryWarmUp.WarmUpClaimSize, claim);
        Assert.True(service.WarmUpMessages / claim >= 100, $"{service.WarmUpMessages} messages in claims of {claim}");
    }

    [Fact]
    public async Task The_running_service_warms_up_before_its_first_send()
    {
        await using var world = await DeliveryWorld.StartAsync();
        await world.AddSubscribersAsync(3);
        var publicationId = await world.PublishAsync(); // due at once when the service starts
        world.App.Set("Delivery:WarmUpMessages", "40");
        var logs = new LogCapture();
        await using var web = new TestWebApp(world.App);
        using var service = web.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));

        _ = service.Services; // starts the app: Program's top-level code, its hosted services included
        await Poll.UntilAsync(async () => (await world.PublicationAsync(publicationId)).Status == Worker.Data.PublicationStatus.Completed,
            "the service to send the publication", TimeSpan.FromSeconds(60));

        Assert.Equal(3, world.Smtp.Messages.Count);
        var lines = logs.Lines.Select(l => l.Message).ToList();
        var warmed = lines.FindIndex(l => l.StartsWith("Delivery path warmed up: 40 messages", StringComparison.Ordinal));
        var sending = lines.FindIndex(l => l.Contains($"Publication {publicationId} ", StringComparison.Ordinal) && l.Contains("sending issue", StringComparison.Ordinal));
        Assert.True(warmed >= 0 && sending > warmed, string.Join("\n", lines));
    }

    // The warm-up talks plain SMTP to its own discard server whatever the service's TLS and login
    // settings say (the discard server offers neither; carried over, they would fail the warm-up).
    [Fact]
    public async Task The_warm_up_leaves_out_the_services_TLS_and_login()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:WarmUpMessages", "20")
            .Set("Smtp:Security", "StartTls")
            .Set("Smtp:UserName", "newsletter@example.org")
            .Set("Smtp:Password", "not used here"));

        var sent = await world.Host.Services.GetRequiredService<DeliveryWarmUp>().RunAsync(CancellationToken.None);

        Assert.Equal(20, sent);
        Assert.DoesNotContain(world.Logs.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Theory]
    [InlineData("Smtp", "0")]
    [InlineData("Pickup", "2000")]
    public async Task No_warm_up_when_it_is_off_or_the_transport_is_the_pickup_folder(string transport, string messages)
    {
        var leftovers = ScratchDirectories();
        await using var world = await DeliveryWorld.StartAsync(configure: app => app
            .Set("Delivery:Transport", transport).Set("Delivery:WarmUpMessages", messages));

        var sent = await world.Host.Services.GetRequiredService<DeliveryWarmUp>().RunAsync(CancellationToken.None);

        Assert.Equal(0, sent);
        Assert.Empty(ScratchDirectories().Except(leftovers));
        Assert.DoesNotContain(world.Logs.Lines, l => l.Message.Contains("warm", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_stop_during_the_warm_up_ends_it_and_leaves_no_scratch_files()
    {
        var leftovers = ScratchDirectories();
        await using var world = await DeliveryWorld.StartAsync(configure: app => app.Set("Delivery:WarmUpMessages", "100000"));
        using var stop = new CancellationTokenSource();
        var warmUp = world.Host.Services.GetRequiredService<DeliveryWarmUp>().RunAsync(stop.Token);
        await Poll.UntilAsync(() => ScratchDirectories().Except(leftovers).Any(), "the warm-up to start");

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmUp.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(ScratchDirectories().Except(leftovers));
        Assert.DoesNotContain(world.Logs.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_warm_up_that_fails_is_logged_and_given_up_without_stopping_anything()
    {
        await using var world = await DeliveryWorld.StartAsync(configure: app => app.Set("Delivery:WarmUpMessages", "20"));
        var services = world.Host.Services;
        // A scratch folder that cannot be made: its parent is a file.
        var notADirectory = world.App.WriteFile("not-a-directory", "");
        var warmUp = new DeliveryWarmUp(services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IHostEnvironment>(),
            services.GetRequiredService<IEmailRenderer>(), services.GetRequiredService<IOptions<DeliveryOptions>>(),
            services.GetRequiredService<ILogger<DeliveryWarmUp>>()) { ScratchRoot = notADirectory };

        var sent = await warmUp.RunAsync(CancellationToken.None);

        Assert.Equal(0, sent);
        Assert.True(world.Logs.Contains(LogLevel.Warning, "Warming up the delivery path failed"),
            string.Join("\n", world.Logs.Lines.Select(l => l.Message)));
        Assert.Equal(0, world.Smtp.ConnectionCount);
    }

    [Fact]
    public async Task The_discard_server_takes_dot_stuffed_pipelined_messages_one_after_another_on_one_connection()
    {
        await using var server = DiscardSmtpServer.Start();
        using var client = new SmtpClient { Timeout = 15_000 };
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));

        for (var i = 0; i < 3; i++)
        {
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("newsletter@example.org"));
            message.To.Add(MailboxAddress.Parse($"reader{i}@example.org"));
            message.Subject = "Dots";
            // Lines that are, or start with, a dot: sent stuffed, they must not end the message early.
            message.Body = new TextPart("plain") { Text = ".\r\n..\r\n.hidden\r\nthe end\r\n" };
            var reply = await client.SendAsync(message);
            Assert.Contains("discarded", reply, StringComparison.Ordinal);
        }
        await client.NoOpAsync();
        await client.DisconnectAsync(quit: true);

        Assert.Equal(3, server.Messages);
    }

    private static HashSet<string> ScratchDirectories() =>
        [.. Directory.GetDirectories(Path.GetTempPath(), ScratchPrefix + "*")];
}
