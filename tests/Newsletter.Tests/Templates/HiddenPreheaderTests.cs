using Microsoft.Playwright;
using Newsletter.Templates.Models;
using Newsletter.Tests.Delivery;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Templates;

/// <summary>
/// The preheader is what an inbox shows after the subject, never part of the email itself: hidden by
/// layout (display none, no height), not by a text colour matching the background, which spam filters score.
/// </summary>
public sealed class HiddenPreheaderTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    public static TheoryData<string, ColorScheme> Emails()
    {
        var data = new TheoryData<string, ColorScheme>();
        foreach (var email in TestData.Editions.Append("confirmation"))
        {
            data.Add(email, ColorScheme.Light);
            data.Add(email, ColorScheme.Dark);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Emails))]
    public async Task The_preheader_is_in_the_html_but_not_in_what_the_reader_sees(string email, ColorScheme scheme)
    {
        var html = await HtmlAsync(email);
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 600, Height = 900 },
            ColorScheme = scheme,
        });
        await context.RouteAsync("**/*", route => route.AbortAsync()); // images stay offline
        var page = await context.NewPageAsync();
        await page.SetContentAsync(html);

        var preheader = page.Locator("body > div").First;
        var words = (await preheader.TextContentAsync() ?? "").Trim('\u2007', '\uFEFF', '\u034F', ' ');
        Assert.True(words.Length > 10, $"no preheader words in the {email} email's first element: '{words}'");
        Assert.False(await preheader.IsVisibleAsync(), $"the {email} email's preheader is visible");
        // What the reader sees is the same with the preheader taken out of the page.
        var seen = await page.EvaluateAsync<string>("() => document.body.innerText");
        var withoutIt = await page.EvaluateAsync<string>("() => { document.body.querySelector(':scope > div').remove(); return document.body.innerText; }");
        Assert.Equal(withoutIt, seen);
    }

    private static async Task<string> HtmlAsync(string email) => email switch
    {
        "confirmation" => (await SampleIssues.Renderer.RenderConfirmationAsync(new ConfirmationEmail
        {
            Kind = ConfirmationKind.ConfirmSubscription,
            Brand = SampleIssues.Brand,
            Name = "Sam",
            EditionNames = ["Tip of the Week"],
            ActionUrl = MessageKit.BaseUrl + "/confirm/v1.token",
        })).Html,
        _ => (await MessageKit.RenderAsync(email)).Html,
    };
}
