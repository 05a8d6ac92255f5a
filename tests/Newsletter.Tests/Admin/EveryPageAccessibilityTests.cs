using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>Every page of the workspace, found in the app's route table (so a page added later is checked
/// too), opened signed in with something to show, passes axe-core and fits the screen, light and dark,
/// desktop and phone width.</summary>
public sealed partial class EveryPageAccessibilityTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Theory]
    [InlineData(1024, ColorScheme.Light)]
    [InlineData(375, ColorScheme.Dark)]
    public async Task Every_workspace_page_passes_axe_fits_the_screen_and_breaks_no_policy(int width, ColorScheme scheme)
    {
        await using var world = await SignupWorld.StartAsync(kestrel: true);
        var password = await WorkspaceEditor.AddAsync(world.App);
        // Id 1 of everything a page can show: a reader, a sent issue with its publication.
        await world.App.RunCliOkAsync("subscribers", "add", "reader@example.org", "--name", "Kim", "--confirmed");
        await world.App.RunCliOkAsync("issues", "queue", world.App.WriteFile("tip.md", TestData.TipIssue("A tip for every page")));
        await world.App.RunCliOkAsync("issues", "send-now", "1");
        // A soft bounce, so the reader's record shows its bounce history too.
        await world.App.RunCliOkAsync("bounces", "process",
            world.App.WriteFile("bounce.eml", Bounces.BounceSamples.Dsn("bounces@example.org", "reader@example.org", "4.2.2")));
        var pages = world.Web.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ActionDescriptor>() is not null)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(path => path.StartsWith("/admin", StringComparison.Ordinal) && path != "/admin/sign-in")
            .Select(path => RouteValue().Replace(path, "1"))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Contains("/admin/readers/1/erase", pages);
        Assert.Contains("/admin/issues/write/1", pages);

        await using var context = await WorkspaceBrowser.OpenAsync(chromium, world, width, scheme);
        var page = await WorkspaceBrowser.SignedInAsync(context, world, password);
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add($"{page.Url}: {message.Text}");
            }
        };
        foreach (var path in pages)
        {
            var response = await page.GotoAsync(path);
            Assert.True(response?.Status == 200, $"{path} answered {response?.Status}");
            await WorkspaceBrowser.AssertFitsAndAccessibleAsync(page, path);
            // Scripts come from files (the policy allows no inline script), and the live counts' one loads.
            Assert.True(await page.EvaluateAsync<bool>("() => [...document.scripts].every(s => s.src)"), $"{path} has an inline script");
            if (path == "/admin/publications/1")
            {
                Assert.Equal(1, await page.EvaluateAsync<int>("() => document.scripts.length"));
                var script = await page.APIRequest.GetAsync("/admin/scripts/publication.js");
                Assert.Equal((200, "text/javascript; charset=utf-8"), (script.Status, script.Headers["content-type"]));
            }
            if (path == "/admin/readers/1")
            {
                Assert.Equal(1, await page.Locator("#bounces tbody tr").CountAsync());
            }
        }
        // The pages' Content-Security-Policy refuses nothing they use: styles, forms, the previews' frames, scripts.
        Assert.True(refused.Count == 0, string.Join('\n', refused));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}]+\}")]
    private static partial System.Text.RegularExpressions.Regex RouteValue();
}
