using Newsletter.Tests.Infrastructure.Databases;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>The SMTP password never crosses the network unencrypted unless the operator says it may: a server
/// that offers no STARTTLS (or one an attacker stripped it from) gets no AUTH.</summary>
public class SmtpLoginTests
{
    private static SmtpTransport Transport(int port, bool allowPlainText) => new(Options.Create(new SmtpOptions
    {
        Host = "127.0.0.1", Port = port, Security = SmtpSecurity.Auto, UserName = "newsletter", Password = "secret",
        AllowPlainTextLogin = allowPlainText,
    }), NullLogger<SmtpTransport>.Instance);

    [DatabaseFact]
    public async Task Without_TLS_the_password_is_not_sent_and_the_session_is_refused_saying_why()
    {
        await using var server = LineSmtpServer.Start(auth: true);

        var refused = await Assert.ThrowsAsync<MailTransportException>(() => Transport(server.Port, allowPlainText: false).OpenAsync(CancellationToken.None));

        Assert.Contains("not encrypted, so the password was not sent", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Smtp:AllowPlainTextLogin", refused.Message, StringComparison.Ordinal);
        Assert.Contains(server.Commands, c => c.Line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(server.Commands, c => c.Line.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase));
    }

    [DatabaseFact]
    public async Task With_plain_text_login_allowed_the_session_authenticates()
    {
        await using var server = LineSmtpServer.Start(auth: true);

        await using var connection = await Transport(server.Port, allowPlainText: true).OpenAsync(CancellationToken.None);

        Assert.Contains(server.Commands, c => c.Line.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase));
    }

    [DatabaseFact]
    public async Task Security_None_with_a_user_name_stops_the_start_in_one_line_unless_plain_text_login_is_allowed()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        app.Set("Smtp:Security", "None").Set("Smtp:UserName", "newsletter");

        var refused = await app.RunCliAsync("editions");
        app.Set("Smtp:AllowPlainTextLogin", "true");
        var allowed = await app.RunCliAsync("editions");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Smtp:Security=None with Smtp:UserName would send the password unencrypted", refused.Error, StringComparison.Ordinal);
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.Equal(0, allowed.ExitCode);
    }
}
