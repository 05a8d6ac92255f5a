using Microsoft.Playwright;

namespace Newsletter.Tests.Infrastructure;

/// <summary>With <c>NEWSLETTER_SCREENSHOTS</c> set to a folder (scripts/screenshots sets it to docs/screenshots),
/// browser tests leave a picture of each page they check there; otherwise this does nothing.</summary>
public static class Screenshots
{
    private static readonly string? Folder = Environment.GetEnvironmentVariable("NEWSLETTER_SCREENSHOTS");

    public static async Task TakeAsync(IPage page, string name)
    {
        if (string.IsNullOrEmpty(Folder))
        {
            return;
        }
        Directory.CreateDirectory(Folder);
        var width = page.ViewportSize?.Width ?? 0;
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Folder, $"{name}-{(width < 600 ? "phone" : "desktop")}.png"),
        });
    }
}
