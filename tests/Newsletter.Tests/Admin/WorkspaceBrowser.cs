using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Admin;

/// <summary>The workspace in headless Chromium: a page at a width and colour scheme, signed in, and the checks
/// every page must pass (axe-core with no serious or critical violation; nothing wider than the screen).</summary>
internal static class WorkspaceBrowser
{
    public static async Task<IBrowserContext> OpenAsync(ChromiumFixture chromium, SignupWorld world, int width, ColorScheme scheme, int height = 800) =>
        await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = world.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = scheme,
        });

    /// <summary>Signs in the editor made by <see cref="WorkspaceEditor.AddAsync"/>, past the one-time password's change, by label and keyboard.</summary>
    public static async Task<IPage> SignedInAsync(IBrowserContext context, SignupWorld world, string password)
    {
        await using (var db = world.App.OpenDb())
        {
            await db.Editors.ExecuteUpdateAsync(u => u.SetProperty(e => e.MustChangePassword, false));
        }
        var page = await context.NewPageAsync();
        await page.GotoAsync("/admin/sign-in");
        await page.GetByLabel("Email address").FillAsync(WorkspaceEditor.Email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByLabel("Password").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Workspace" })).ToBeVisibleAsync();
        return page;
    }

    /// <summary>axe-core on the workspace page (not inside the preview's sandboxed frames, which run no script and
    /// hold the email); with a time limit, so a hang fails the test. Leaves a screenshot when asked (<see cref="Screenshots"/>).</summary>
    public static async Task AssertAccessibleAsync(IPage page, string what)
    {
        await Screenshots.TakeAsync(page, string.Join('-', what.Split([' ', '/', '?', '&', '='], StringSplitOptions.RemoveEmptyEntries)));
        var result = await page.RunAxe(new AxeRunOptions { Iframes = false }).WaitAsync(TimeSpan.FromMinutes(1));
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{what}: " + string.Join("; ", serious.Select(v => $"{v.Id}: {v.Help}")));
    }

    /// <summary>Accessible, and nothing wider than the screen (named when something is).</summary>
    public static async Task AssertFitsAndAccessibleAsync(IPage page, string what)
    {
        await AssertAccessibleAsync(page, what);
        var fits = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth");
        Assert.True(fits, $"{what} is wider than the screen: " + await page.EvaluateAsync<string>(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + ' ' + e.textContent.trim().slice(0, 40)).join('; ')"));
    }
}
