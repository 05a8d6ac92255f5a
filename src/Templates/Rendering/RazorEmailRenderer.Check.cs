using Newsletter.Templates.Models;
using RazorLight.Compilation;
using RazorLight.Generation;

namespace Newsletter.Templates.Rendering;

/// <summary>What the template check found: how many templates, how many the editor's, and each problem.</summary>
public sealed record TemplateCheckResult(int Templates, int Overridden, string? Folder, IReadOnlyList<TemplateProblem> Problems)
{
    public bool Succeeded => Problems.Count == 0;
}

public sealed partial class RazorEmailRenderer
{
    public async Task<TemplateCheckResult> CheckTemplatesAsync(NewsletterBrand brand, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brand);
        var set = Templates;
        var problems = new List<TemplateProblem>(set.Problems);

        // First what does not compile: a sample cannot be rendered without it.
        foreach (var key in TemplateEngine.Keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            problems.AddRange(await CompileProblemsAsync(key).ConfigureAwait(false));
        }
        problems.AddRange(WelcomeText.Check(set.WelcomeMarkdown).Select(p => new TemplateProblem(set.Describe(TemplateSet.WelcomeFile), p.Line, p.Message)));

        if (problems.Count == 0)
        {
            var found = new List<(string Files, string Message, string Sample)>();
            foreach (var sample in TemplateSamples.Editions(brand))
            {
                var files = Blame(TemplateKeys[sample.GetType()] + ".cshtml", TemplateSet.LayoutFile);
                found.AddRange((await SampleProblemsAsync(
                        async () => (await PrepareAsync(sample, cancellationToken).ConfigureAwait(false)).Personalize(TemplateSamples.PersonalLinks(brand)),
                        TemplateSamples.PersonalLinks(brand).UnsubscribeUrl, brand).ConfigureAwait(false))
                    .Select(p => (files, p.Message, $"{sample.EditionName} issue")));
            }
            var welcome = TemplateSamples.Welcome(brand);
            found.AddRange((await SampleProblemsAsync(() => RenderWelcomeAsync(welcome, cancellationToken), welcome.UnsubscribeUrl, brand).ConfigureAwait(false))
                .Select(p => (Blame(TemplateSet.WelcomeFile, TemplateSet.LayoutFile), p.Message, "welcome email")));
            found.AddRange((await ConfirmationProblemsAsync(brand, cancellationToken).ConfigureAwait(false))
                .Select(m => (Blame(TemplateSet.ConfirmationFile), m, "confirmation email")));

            // A layout that drops the footer breaks every sample: one line, naming them all.
            problems.AddRange(found.GroupBy(f => (f.Files, f.Message)).Select(g =>
                new TemplateProblem(g.Key.Files, null, $"{g.Key.Message} (in the sample {JoinAnd(g.Select(f => f.Sample).Distinct().ToList())})")));
        }

        return new TemplateCheckResult(TemplateSet.KnownFiles.Count, set.Overrides.Count, set.Folder, problems);
    }

    /// <summary>The editor's files among <paramref name="files"/> (they are what changed), else the built-in ones.</summary>
    private string Blame(params string[] files)
    {
        var overridden = files.Where(Templates.Overrides.ContainsKey).ToList();
        return string.Join(" and ", (overridden.Count > 0 ? overridden : [.. files]).Select(Templates.Describe));
    }

    /// <summary>Compiles one template key; its errors as problems with the file and line.</summary>
    private async Task<IReadOnlyList<TemplateProblem>> CompileProblemsAsync(string key)
    {
        var file = Templates.Describe(key + ".cshtml");
        try
        {
            await Engine.CompileTemplateAsync(key).ConfigureAwait(false);
            return [];
        }
        catch (TemplateGenerationException ex)
        {
            // Razor could not read the file (an unclosed block, a stray @…).
            return [.. ex.Diagnostics.Select(d => new TemplateProblem(file, d.Span.LineIndex >= 0 ? d.Span.LineIndex + 1 : null, OneLine(d.GetMessage())))];
        }
        catch (TemplateCompilationException ex)
        {
            // The C# in it does not compile; lines are mapped back to the template when Razor could.
            var diagnostics = ex.CompilationDiagnostics;
            if (diagnostics is null || diagnostics.Count == 0)
            {
                return [new TemplateProblem(file, null, OneLine(ex.Message))];
            }
            return [.. diagnostics.Select(d => new TemplateProblem(file,
                d.LineSpan is { } span && string.Equals(span.Path, key, StringComparison.Ordinal) ? span.StartLinePosition.Line + 1 : null,
                OneLine(d.ErrorMessage)))];
        }
    }

    /// <summary>Renders a sample and lints it as every email is linted; a failure to render is a problem too.</summary>
    private static async Task<IReadOnlyList<EmailLintProblem>> SampleProblemsAsync(
        Func<Task<RenderedEmail>> render, string unsubscribeUrl, NewsletterBrand brand)
    {
        RenderedEmail email;
        try
        {
            email = await render().ConfigureAwait(false);
        }
        catch (MissingUnsubscribeException)
        {
            return [new EmailLintProblem(EmailLint.MissingUnsubscribe,
                "the unsubscribe link is missing: every email must let the reader leave with one click (keep the link to @Raw(Email.UnsubscribeUrl))")];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return [new EmailLintProblem("render-failed", $"rendering failed: {OneLine(ex.Message)}")];
        }
        return EmailLint.Check(email, new EmailLintExpectations(unsubscribeUrl, brand.PostalAddress, brand.Disclaimer, brand.PublicBaseUrl));
    }

    /// <summary>The sign-up email has no unsubscribe footer and no disclaimer on purpose: it must keep its one
    /// link (checked as the unsubscribe link is) and the postal address.</summary>
    private async Task<IEnumerable<string>> ConfirmationProblemsAsync(NewsletterBrand brand, CancellationToken cancellationToken)
    {
        var sample = TemplateSamples.Confirmation(brand);
        var problems = await SampleProblemsAsync(() => RenderConfirmationAsync(sample, cancellationToken), sample.ActionUrl, brand).ConfigureAwait(false);
        return problems.Where(p => p.Code != EmailLint.MissingDisclaimer)
            .Select(p => p.Code == EmailLint.MissingUnsubscribe
                ? "the confirmation link is missing: the reader could not confirm (keep a link to @Model.ActionUrl)"
                : p.Message)
            .Distinct();
    }

    private static string JoinAnd(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}
