using Newsletter.Tests.Infrastructure.Databases;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Templates.Models;
using Newsletter.Templates.Rendering;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Delivery;

/// <summary>
/// Each reader's copy ends with their own region's crisis line, filled in at personalisation time:
/// the issue is rendered once per send whatever the regions, and both ways of encoding the bodies carry it.
/// </summary>
public partial class CrisisLineTests
{
    private const string UkLine = "If you are struggling or thinking about ending your life, Samaritans are there day and night on 116 123";
    private const string AuLine = "Lifeline is there on 13 11 14";

    [DatabaseFact]
    public async Task Readers_in_different_regions_get_their_own_line_in_the_same_send_of_one_render()
    {
        var renderer = new CountingRenderer(DeliveryWorld.SharedRenderer);
        await using var world = await DeliveryWorld.StartAsync(services: s => s.AddSingleton<IEmailRenderer>(renderer));
        await world.AddSubscribersAsync(3);
        await using (var db = world.App.OpenDb())
        {
            await db.Subscribers.Where(s => s.Id == 1).ExecuteUpdateAsync(u => u.SetProperty(s => s.CrisisRegion, "uk-ie"));
            await db.Subscribers.Where(s => s.Id == 2).ExecuteUpdateAsync(u => u.SetProperty(s => s.CrisisRegion, "au"));
            // Reader 3 never chose: the general line, as before regions existed.
        }
        var before = renderer.Prepared;

        var final = await world.RunAsync(await world.PublishAsync());

        Assert.Equal(3, final.Sent);
        Assert.Equal(1, renderer.Prepared - before);
        var byReader = world.Smtp.Messages.ToDictionary(m => m.RcptTo.Single(), m => m.Message);
        var general = world.App.Settings["Newsletter:CrisisResources"]!;
        Assert.Contains(UkLine, Crisis(byReader[DeliveryWorld.Email(1)]), StringComparison.Ordinal);
        Assert.Contains(AuLine, Crisis(byReader[DeliveryWorld.Email(2)]), StringComparison.Ordinal);
        Assert.Equal(general, Crisis(byReader[DeliveryWorld.Email(3)]));
        Assert.Contains(AuLine, Unwrapped(byReader[DeliveryWorld.Email(2)].TextBody!), StringComparison.Ordinal);
        Assert.DoesNotContain("Samaritans", Unwrapped(byReader[DeliveryWorld.Email(2)].TextBody!), StringComparison.Ordinal);

        // Apart from the line, the greeting's name and the signed links, every copy is the same.
        var shapes = byReader.Values.Select(m => Shape(m.HtmlBody!)).Distinct().ToList();
        Assert.Single(shapes);
        Assert.Single(byReader.Values.Select(m => Shape(Unwrapped(m.TextBody!))).Distinct());
    }

    [DatabaseTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Both_ways_of_encoding_carry_the_line_html_encoded_in_the_html_part(bool preEncoded)
    {
        var issue = new EncodedEmail(await MessageKit.PrepareAsync(MessageKit.Sample("weekly-tip")));
        const string line = "Call 116 123 <any hour> & talk";
        var fields = new PersonalFields("Sam", MessageKit.UnsubscribeUrl(), null, line);
        var factory = MessageKit.Factory();

        var message = factory.ForSender(MessageKit.Editions().Get("weekly-tip"), issue.Subject, preEncoded)
            .Fill(issue, fields, new Recipient(42, "sam@example.org", "Sam"), fields.UnsubscribeUrl, "1.42.1");
        var parsed = MessageKit.Parse(MessageKit.Serialize(message));

        Assert.Contains("Call 116 123 &lt;any hour&gt; &amp; talk", parsed.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<any hour>", parsed.HtmlBody, StringComparison.Ordinal);
        Assert.Contains(line, Unwrapped(parsed.TextBody!), StringComparison.Ordinal);
        Assert.DoesNotContain("988", parsed.TextBody, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task Without_a_line_of_their_own_a_copy_carries_the_general_one()
    {
        var prepared = await MessageKit.PrepareAsync(MessageKit.Sample("weekly-fact"));
        var general = MessageKit.Newsletter().CrisisResources;

        var email = prepared.Personalize(new PersonalFields("Sam", MessageKit.UnsubscribeUrl()));
        var blank = prepared.Personalize(new PersonalFields("Sam", MessageKit.UnsubscribeUrl(), null, "  \n "));

        Assert.Contains($"<p class=\"crisis\"", email.Html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(general), email.Html, StringComparison.Ordinal);
        Assert.Contains(general, Unwrapped(email.Text), StringComparison.Ordinal);
        Assert.Equal(email, blank);
    }

    /// <summary>The footer's crisis paragraph, decoded.</summary>
    private static string Crisis(MimeMessage message)
    {
        var match = CrisisParagraph().Match(message.HtmlBody!);
        Assert.True(match.Success, "no crisis paragraph");
        return WebUtility.HtmlDecode(match.Groups[1].Value.Trim());
    }

    private static string Unwrapped(string text) => Regex.Replace(text, @"\s*\r?\n\s*", " ");

    private static string Shape(string body)
    {
        var withoutLine = CrisisParagraph().Replace(body, "<crisis>");
        withoutLine = Regex.Replace(withoutLine, @"If you are .*?(emergency number( right now)?|call 000|call 999 or 112)\.?", "<crisis>");
        withoutLine = Regex.Replace(withoutLine, @"Reader \d", "Reader N");
        return Regex.Replace(withoutLine, @"/(unsubscribe|preferences)/[A-Za-z0-9_\-\.]+(\?p=\d+)?", "/$1/TOKEN");
    }

    [GeneratedRegex("<p class=\"crisis\"[^>]*>(.*?)</p>", RegexOptions.Singleline)]
    private static partial Regex CrisisParagraph();

    /// <summary>The real renderer, counting how often an issue is prepared.</summary>
    private sealed class CountingRenderer(IEmailRenderer inner) : IEmailRenderer
    {
        private int _prepared;

        public int Prepared => Volatile.Read(ref _prepared);

        public Task<PreparedEmail> PrepareAsync(EditionEmail email, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _prepared);
            return inner.PrepareAsync(email, cancellationToken);
        }

        public Task WarmUpAsync(CancellationToken cancellationToken = default) => inner.WarmUpAsync(cancellationToken);

        public Task<RenderedEmail> RenderConfirmationAsync(ConfirmationEmail email, CancellationToken cancellationToken = default) =>
            inner.RenderConfirmationAsync(email, cancellationToken);

        public Task<string> RenderWebPageAsync(EditionEmail email, WebPageLinks links, CancellationToken cancellationToken = default) =>
            inner.RenderWebPageAsync(email, links, cancellationToken);

        public Task<RenderedEmail> RenderWelcomeAsync(WelcomeEmail email, CancellationToken cancellationToken = default) =>
            inner.RenderWelcomeAsync(email, cancellationToken);

        public Task<TemplateCheckResult> CheckTemplatesAsync(NewsletterBrand brand, CancellationToken cancellationToken = default) =>
            inner.CheckTemplatesAsync(brand, cancellationToken);
    }
}
