using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Bounces;

namespace Newsletter.Tests.Bounces;

/// <summary>The webhooks' settings are checked at start, and SNS's addresses are held to the allowed hosts.</summary>
public sealed class WebhookSettingsTests
{
    [Fact]
    public async Task SES_on_without_a_topic_is_refused_at_start()
    {
        await using var app = TestApp.Create().Set("Bounces:Ses:Enabled", "true");
        using var host = app.BuildHost();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<BouncesOptions>>().Value);

        Assert.Contains("Bounces:Ses:TopicArns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_Postmark_secret_is_refused_at_start()
    {
        await using var app = TestApp.Create().Set("Bounces:Postmark:Secret", "letmein");
        using var host = app.BuildHost();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<BouncesOptions>>().Value);

        Assert.Contains("Bounces:Postmark:Secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_webhooks_are_off_by_default_and_SNS_hosts_default_to_Amazons()
    {
        await using var app = TestApp.Create();
        using var host = app.BuildHost();

        var options = host.Services.GetRequiredService<IOptions<BouncesOptions>>().Value;

        Assert.False(options.Ses.Enabled);
        Assert.False(options.Postmark.Enabled);
        Assert.Equal(["sns.*.amazonaws.com"], options.Ses.AllowedCertificateHosts);
    }

    [Fact]
    public async Task Configured_SNS_hosts_replace_Amazons_rather_than_adding_to_them()
    {
        await using var app = TestApp.Create().Set("Bounces:Ses:CertificateHosts:0", "sns.example.net");
        using var host = app.BuildHost();

        var options = host.Services.GetRequiredService<IOptions<BouncesOptions>>().Value;

        Assert.Equal(["sns.example.net"], options.Ses.AllowedCertificateHosts);
    }

    [Theory]
    [InlineData("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", true)]
    [InlineData("https://SNS.eu-west-1.AmazonAWS.com/cert.pem", true)]
    [InlineData("http://sns.us-east-1.amazonaws.com/cert.pem", false)]
    [InlineData("https://sns.us-east-1.amazonaws.com.attacker.example/cert.pem", false)]
    [InlineData("https://sns.a.b.amazonaws.com/cert.pem", false)]
    [InlineData("https://x.sns.us-east-1.amazonaws.com/cert.pem", false)]
    [InlineData("https://sns..amazonaws.com/cert.pem", false)]
    [InlineData("https://user@sns.us-east-1.amazonaws.com/cert.pem", false)]
    [InlineData("https://attacker.example/sns.us-east-1.amazonaws.com/cert.pem", false)]
    [InlineData("not a url", false)]
    public void A_certificate_address_is_allowed_only_over_https_on_a_matching_host(string url, bool allowed)
    {
        Assert.Equal(allowed, SnsHosts.Allowed(url, ["sns.*.amazonaws.com"], out _) is not null);
    }
}
