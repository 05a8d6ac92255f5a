using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Http;

/// <summary>
/// The public pages in headless Chromium against the real app on Kestrel (loopback, free port):
/// fields are found by their labels (which proves the labels), forms are sent with the keyboard,
/// and the confirmation email arrives at the loopback SMTP server and its link is followed.
/// </summary>
public sealed class SignupPagesTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MailWait = TimeSpan.FromSeconds(30);

    private async Task<(IBrowserContext Context, IPage Page, List<string> Requests)> OpenAsync(SignupWorld world, ViewportSize? viewport = null)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = world.BaseAddress!.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1024, Height = 800 },
        });
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        return (context, page, requests);
    }

    private static async Task<string> FocusedAsync(IPage page) =>
        await page.EvaluateAsync<string>("() => (document.activeElement?.textContent ?? '').trim()");

    [Fact]
    public async Task A_reader_signs_up_confirms_and_changes_their_editions_using_labels_and_the_keyboard()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var (context, page, requests) = await OpenAsync(world);
        await using var _ = context;

        await page.GotoAsync("/subscribe");
        await page.GetByLabel("Your email address").FillAsync("reader@example.org");
        await page.GetByLabel("Your first name").FillAsync("Robin");
        await page.GetByLabel("Monthly Spotlight").UncheckAsync();
        await page.GetByLabel("Your email address").PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your inbox" })).ToBeVisibleAsync();
        await world.Smtp.WaitForMessagesAsync(1, MailWait);
        var confirmPath = SignupWorld.LinkPath(world.Smtp.Messages[0].Message, "/confirm/");

        await page.GotoAsync(confirmPath);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "One last step" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Fact of the Week and Tip of the Week")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Confirm my subscription", await FocusedAsync(page));
        // The keyboard focus is visible (an outline), not just present.
        Assert.Equal("solid", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You're in. Welcome!" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Change your editions or your name" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your preferences" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("The name we greet you by")).ToHaveValueAsync("Robin");
        await page.GetByLabel("The name we greet you by").FillAsync("Robin B.");
        await page.GetByLabel("Fact of the Week").UncheckAsync();
        await page.GetByLabel("Monthly Spotlight").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save my choices" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");
        await using (var db = world.App.OpenDb())
        {
            var s = await db.Subscribers.Include(x => x.Subscriptions).SingleAsync();
            Assert.Equal(("Robin B.", SubscriberStatus.Confirmed), (s.Name, s.Status));
            Assert.Equal(["weekly-tip"], s.Subscriptions.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.Edition));
            // An edition added on the preferences page waits for the emailed confirmation.
            Assert.Equal(["monthly-spotlight"], s.Subscriptions.Where(x => x.Status == SubscriptionStatus.Pending).Select(x => x.Edition));
        }
        Assert.All(requests, url => Assert.StartsWith(world.BaseAddress!.ToString(), url));
    }

    [Fact]
    public async Task Mistakes_on_the_sign_up_page_are_announced_focused_and_linked_to_their_field()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var (context, page, _) = await OpenAsync(world);
        await using var _ = context;

        await page.GotoAsync("/subscribe");
        await page.GetByLabel("Your email address").FillAsync("reader@");
        await page.GetByLabel("Fact of the Week").UncheckAsync();
        await page.GetByLabel("Tip of the Week").UncheckAsync();
        await page.GetByLabel("Monthly Spotlight").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).PressAsync("Enter");

        var summary = page.GetByRole(AriaRole.Alert);
        await Assertions.Expect(summary).ToContainTextAsync("Something needs another look");
        await Assertions.Expect(summary).ToBeFocusedAsync();
        await Assertions.Expect(page.GetByLabel("Your email address")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByLabel("Your email address")).ToHaveValueAsync("reader@");
        await Assertions.Expect(page.GetByText("Please choose at least one edition.").First).ToBeVisibleAsync();

        await summary.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("not an email address") }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Your email address")).ToBeFocusedAsync();
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }

    [Fact]
    public async Task The_unsubscribe_page_leaves_one_edition_with_its_first_button_and_all_of_them_with_its_second()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var id = await world.SubscribeConfirmedAsync("leaving@example.org", null, "weekly-tip", "weekly-fact", "monthly-spotlight");
        var (context, page, _) = await OpenAsync(world);
        await using var _ = context;

        await page.GotoAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unsubscribe from Tip of the Week only" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You're unsubscribed from Tip of the Week" })).ToBeVisibleAsync();

        await page.GotoAsync($"/unsubscribe/{world.UnsubscribeToken(id, "weekly-fact")}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unsubscribe from all editions" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You're unsubscribed from everything" })).ToBeVisibleAsync();

        await using var db = world.App.OpenDb();
        Assert.All(await db.Subscriptions.ToListAsync(), s => Assert.Equal(SubscriptionStatus.Unsubscribed, s.Status));
    }

    [Fact]
    public async Task An_expired_link_page_sends_a_new_link_from_its_button()
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var link = await world.SignUpAndGetLinkAsync("late@example.org");
        world.Time.Advance(TimeSpan.FromDays(8));
        var (context, page, _) = await OpenAsync(world);
        await using var _ = context;

        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "This link has expired" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Send me a new link" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "A new link is on its way" })).ToBeVisibleAsync();
        await world.Smtp.WaitForMessagesAsync(2, MailWait);
    }

    [Theory]
    [InlineData("/subscribe")]
    [InlineData("confirm")]
    [InlineData("preferences")]
    [InlineData("unsubscribe")]
    public async Task Each_page_fits_a_phone_screen_without_sideways_scrolling_loads_nothing_from_elsewhere_and_breaks_no_policy(string which)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var path = which;
        if (which != "/subscribe")
        {
            var link = await world.SignUpAndGetLinkAsync("phone.reader.with.a.long.address@example.org", "Alexandra", "weekly-tip");
            int id;
            await using (var db = world.App.OpenDb())
            {
                id = (await db.Subscribers.SingleAsync()).Id;
            }
            path = which switch
            {
                "confirm" => link,
                "preferences" => $"/preferences/{world.PreferencesToken(id)}",
                _ => $"/unsubscribe/{world.UnsubscribeToken(id, "weekly-tip")}",
            };
        }
        var (context, page, requests) = await OpenAsync(world, new ViewportSize { Width = 360, Height = 740 });
        await using var _ = context;
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add(message.Text);
            }
        };

        await page.GotoAsync(path);

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"{which} scrolls sideways on a phone");
        Assert.True(await page.EvaluateAsync<bool>("() => parseFloat(getComputedStyle(document.body).fontSize) >= 16"));
        Assert.Equal("en", await page.EvaluateAsync<string>("() => document.documentElement.lang"));
        Assert.All(requests, url => Assert.StartsWith(world.BaseAddress!.ToString(), url));
        // The page's policy refuses nothing the page itself needs (its styles, its forms).
        Assert.True(refused.Count == 0, string.Join('\n', refused));
        Assert.Equal("18px", await page.EvaluateAsync<string>("() => getComputedStyle(document.body).fontSize"));
        // Every form control a person can use has a label.
        Assert.Equal(0, await page.EvaluateAsync<int>(
            "() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).length"));
    }
}
