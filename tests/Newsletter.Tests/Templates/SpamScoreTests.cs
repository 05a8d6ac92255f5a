using System.Globalization;
using Newsletter.Tests.Cli;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;

namespace Newsletter.Tests.Templates;

/// <summary>
/// Every email the service sends, as it leaves over SMTP, scores 0 with SpamAssassin's local rules:
/// a point given away by the template is a point nearer the junk folder for every reader.
/// </summary>
public sealed class SpamScoreTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Which email: an edition's key, a sign-up email or the welcome. Add a case here and in <see cref="SendAsync"/>.</summary>
    public static TheoryData<string> Emails() =>
    [
        .. TestData.Editions,
        "confirmation",
        "already-subscribed",
        "welcome",
    ];

    [Theory]
    [MemberData(nameof(Emails))]
    public async Task The_email_scores_zero_with_spamassassins_local_rules(string email)
    {
        var message = await SendAsync(email);

        var report = await SpamAssassin.CheckAsync(message);

        // The score as SpamAssassin reports it, to one decimal: informational rules (-0.001) count as 0.
        Assert.True(report.Score == 0, $"the {email} email: {report}");
    }

    /// <summary>The raw bytes of the email as the test SMTP server received it.</summary>
    private static Task<byte[]> SendAsync(string email) => email switch
    {
        "confirmation" => SignupEmailAsync(async world =>
        {
            await world.SignUpAndGetLinkAsync("sam@example.org", "Sam", "weekly-tip", "weekly-fact");
            return world.Smtp.Messages[^1];
        }),
        "already-subscribed" => SignupEmailAsync(async world =>
        {
            await world.SubscribeConfirmedAsync("sam@example.org", "Sam", "weekly-tip");
            world.Time.Advance(TimeSpan.FromHours(2));
            await world.SignUpAsync("sam@example.org", "Sam", "weekly-tip");
            await world.MailIdleAsync();
            return Assert.Single(world.Smtp.Messages, m => (m.Message.Subject ?? "").Contains("already", StringComparison.Ordinal));
        }),
        "welcome" => SignupEmailAsync(async world =>
        {
            await world.SubscribeConfirmedAsync("sam@example.org", "Sam", "weekly-tip", "weekly-fact");
            await world.MailIdleAsync();
            return Assert.Single(world.Smtp.Messages, m => (m.Message.Subject ?? "").Contains("Welcome", StringComparison.OrdinalIgnoreCase));
        }),
        _ when TestData.Editions.Contains(email) => EditionAsync(email),
        _ => throw new ArgumentOutOfRangeException(nameof(email), email, "no such email"),
    };

    /// <summary>The edition's sample issue sent now to one named reader, DKIM-signed as production would sign it.</summary>
    private static async Task<byte[]> EditionAsync(string edition)
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = TestApp.Create();
        app.UseSmtp(smtp.Port)
            .Set("Messages:Dkim:Domain", "example.org")
            .Set("Messages:Dkim:Selector", "news")
            .Set("Messages:Dkim:PrivateKeyPath", app.WriteFile("dkim.pem", MessageKit.NewRsaKey().PrivatePem));
        await app.RunCliOkAsync("subscribers", "add", "sam@example.org", "--confirmed", "--editions", edition, "--name", "Sam");
        var issue = await IssueQueueCliTests.QueueAsync(app, TestData.SampleIssuePath(edition));

        await app.RunCliOkAsync("issues", "send-now", issue.ToString(CultureInfo.InvariantCulture));

        await smtp.WaitForMessagesAsync(1, Wait);
        var received = Assert.Single(smtp.Messages);
        Assert.NotNull(received.Message.Headers[MimeKit.HeaderId.DkimSignature]);
        return received.Raw;
    }

    private static async Task<byte[]> SignupEmailAsync(Func<SignupWorld, Task<ReceivedMessage>> send)
    {
        await using var world = await SignupWorld.StartAsync();
        return (await send(world)).Raw;
    }
}
