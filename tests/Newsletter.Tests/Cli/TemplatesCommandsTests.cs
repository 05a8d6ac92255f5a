using Newsletter.Templates.Rendering;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.SignupEmails;

namespace Newsletter.Tests.Cli;

/// <summary>
/// `newsletter templates check`, and the same check at the service's start: the editor's templates compile,
/// and a sample of every email made with them still carries the unsubscribe link, the disclaimer and the
/// postal address. Each problem is one line naming the file (and the line, when there is one).
/// </summary>
public sealed class TemplatesCommandsTests
{
    /// <summary>A Tip of the Week template whose fourth line has a Razor block never closed.</summary>
    private const string BrokenTip = """
        @inherits Newsletter.Templates.Rendering.EmailTemplatePage<Newsletter.Templates.Models.TipOfTheWeekEmail>
        @{ Layout = "_Layout"; }
        <h1 class="headline">@Email.Headline</h1>
        @if (Model.Tip != null) { <p>@Model.Tip</p>
        <div class="body">@Raw(Email.BodyHtml)</div>
        """;

    /// <summary>The built-in layout with its unsubscribe paragraph taken out.</summary>
    private static string LayoutWithoutUnsubscribe()
    {
        var layout = TemplateFolder.BuiltIn(TemplateSet.LayoutFile);
        var start = layout.IndexOf("<p class=\"unsubscribe\">", StringComparison.Ordinal);
        var end = layout.IndexOf("</p>", start, StringComparison.Ordinal) + "</p>".Length;
        return layout[..start] + layout[end..];
    }

    [Fact]
    public async Task Without_a_folder_the_built_in_templates_pass()
    {
        await using var app = TestApp.Create();

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("OK: 6 templates (none overridden: Templates:Folder is not set)", result.Out.Trim());
    }

    [Fact]
    public async Task Overrides_that_keep_what_every_email_needs_pass_and_are_counted()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        folder.Write(TemplateSet.LayoutFile, TemplateFolder.BuiltIn(TemplateSet.LayoutFile).Replace("#2f5d54", "#3b4f7a", StringComparison.Ordinal));
        folder.Write(TemplateSet.WelcomeFile, TemplateFolder.BuiltIn(TemplateSet.WelcomeFile).Replace("cup of tea", "cup of coffee", StringComparison.Ordinal));
        app.Set("Templates:Folder", folder.Path);

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"OK: 6 templates (2 overridden from {folder.Path})", result.Out.Trim());
        Assert.False(File.Exists(app.DatabasePath), "checking templates needs no database");
    }

    [Fact]
    public async Task A_template_with_a_Razor_syntax_error_is_named_with_its_line()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        var path = folder.Write("TipOfTheWeek.cshtml", BrokenTip);
        app.Set("Templates:Folder", folder.Path);

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(path)}:4: ", result.Error);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layout_without_the_unsubscribe_link_is_named()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        var path = folder.Write(TemplateSet.LayoutFile, LayoutWithoutUnsubscribe());
        app.Set("Templates:Folder", folder.Path);

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 1, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith($"{path}: ", StringComparison.Ordinal) && l.Contains("unsubscribe", StringComparison.Ordinal));
        Assert.All(lines[..^1], l => Assert.StartsWith(path, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_welcome_with_an_unknown_placeholder_or_without_the_editions_is_named_with_its_line()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        var path = folder.Write(TemplateSet.WelcomeFile, "Hello!\n\nYou chose {{edition}}.\n\n[Change them]({{preferences_url}})\n");
        folder.Write("_layout.cshtml", "misnamed");
        app.Set("Templates:Folder", folder.Path);

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{path}:3: unknown placeholder {{{{edition}}}}", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{path}:1: the welcome must use {{{{editions}}}}", result.Error, StringComparison.Ordinal);
        Assert.Contains("_layout.cshtml: not a template name: did you mean _Layout.cshtml?", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_that_does_not_exist_is_a_configuration_error()
    {
        await using var app = TestApp.Create();
        var missing = Path.Combine(app.Directory, "no-such-templates");
        app.Set("Templates:Folder", missing);

        var result = await app.RunCliAsync("templates", "check");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"configuration: Templates:Folder: there is no folder at {missing}", result.Error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_does_not_start_with_a_template_that_does_not_compile()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        var path = folder.Write("TipOfTheWeek.cshtml", BrokenTip);

        var result = await ServiceStartTests.StartServiceAsync(app, ("Templates__Folder", folder.Path));

        Assert.True(result.ExitCode == 2, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 1 && lines.All(l => l.StartsWith($"templates: {path}:", StringComparison.Ordinal)), result.ToString());
        Assert.StartsWith($"templates: {path}:4: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(app.DatabasePath), "nothing was prepared for a service that did not start");
    }

    [Fact]
    public async Task The_service_does_not_start_with_a_layout_that_drops_the_unsubscribe_link()
    {
        await using var app = TestApp.Create();
        using var folder = new TemplateFolder();
        var path = folder.Write(TemplateSet.LayoutFile, LayoutWithoutUnsubscribe());

        var result = await ServiceStartTests.StartServiceAsync(app, ("Templates__Folder", folder.Path));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"templates: {path}: the unsubscribe link is missing", result.Error, StringComparison.Ordinal);
    }
}
