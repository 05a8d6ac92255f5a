using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using Markdig;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Newsletter.Templates.Models;
using RazorLight;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// Renders an edition's email with RazorLight, once per issue: Markdown → HTML, Razor, CSS inlined with
/// PreMailer.Net, then split into literal segments and personal slots (<see cref="PreparedEmail"/>).
/// </summary>
/// <remarks>
/// RazorLight compiles each template key into an assembly that is never unloaded, so there is exactly one
/// engine per process, the set of keys is fixed (one per edition plus the layout), and no issue text is ever
/// compiled as a template. Instances are cheap and share that engine; register one as a singleton.
/// </remarks>
public sealed partial class RazorEmailRenderer : IEmailRenderer
{
    /// <summary>Embedded-resource namespace of the templates in <c>Views/</c>.</summary>
    internal const string ViewsNamespace = "Newsletter.Templates.Views";

    internal const string LayoutKey = "_Layout";

    /// <summary>The fixed set of template keys: one per edition model.</summary>
    internal static readonly IReadOnlyDictionary<Type, string> TemplateKeys = new Dictionary<Type, string>
    {
        [typeof(FactOfTheWeekEmail)] = "FactOfTheWeek",
        [typeof(TipOfTheWeekEmail)] = "TipOfTheWeek",
        [typeof(SpotlightEmail)] = "Spotlight",
    };

    private const int PreheaderLength = 110;

    private static readonly RazorLightEngine Engine = new RazorLightEngineBuilder()
        .UseEmbeddedResourcesProject(typeof(RazorEmailRenderer).Assembly, ViewsNamespace)
        .UseMemoryCachingProvider()
        .Build();

    // Compiling the same key twice at once would load two assemblies for it; every template is compiled
    // once, under this one task, before anything renders. Not cancellable: it is shared by all callers.
    private static readonly Lazy<Task> CompileAll = new(CompileAllTemplatesAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ILogger<RazorEmailRenderer> _logger;

    public RazorEmailRenderer(ILogger<RazorEmailRenderer>? logger = null)
    {
        _logger = logger ?? NullLogger<RazorEmailRenderer>.Instance;
    }

    public Task WarmUpAsync(CancellationToken cancellationToken = default) => CompileAll.Value.WaitAsync(cancellationToken);

    public async Task<PreparedEmail> PrepareAsync(EditionEmail email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        var key = TemplateKeys.TryGetValue(email.GetType(), out var found)
            ? found
            : throw new ArgumentException($"There is no email template for {email.GetType().Name}.", nameof(email));
        Validate(email);

        await CompileAll.Value.WaitAsync(cancellationToken).ConfigureAwait(false);

        var slots = SlotTokens.CreateFresh();
        var body = EmailMarkdown.Parse(email.BodyMarkdown);
        var bodyHtml = Markdown.ToHtml(body, EmailMarkdown.Pipeline);
        var bodyText = EmailMarkdown.ToPlainText(body, EmailMarkdown.TextWidth);
        var headline = string.IsNullOrWhiteSpace(email.Headline) ? OneLine(email.Subject) : email.Headline.Trim();
        var page = new EmailPageData
        {
            Headline = headline,
            BodyHtml = bodyHtml,
            Preheader = Preheader(email, bodyText, headline),
            IssueDate = email.IssueDate.ToString("D", CultureFor(email.Brand.Language)),
            Greeting = slots.Greeting,
            UnsubscribeUrl = slots.UnsubscribeUrl,
            PreferencesUrl = slots.PreferencesUrl,
            IfPreferences = slots.IfPreferences,
            EndPreferences = slots.EndPreferences,
        };

        // The compiled template comes from the cache; each render gets its own page instance.
        var template = await Engine.CompileTemplateAsync(key).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var razorHtml = await Engine.RenderTemplateAsync(template, email, EmailTemplatePage<EditionEmail>.ViewBagFor(page)).ConfigureAwait(false);

        // Inline the CSS once per issue. Media queries (small screens, dark mode) cannot be inlined and
        // stay in a <style> block; the comments carrying the conditional slot markers are kept.
        using var preMailer = new PreMailer.Net.PreMailer(razorHtml);
        var inlined = preMailer.MoveCssInline(removeStyleElements: true, removeComments: false, preserveMediaQueries: true);
        foreach (var warning in inlined.Warnings)
        {
            LogInliningWarning(_logger, email.EditionKey, warning);
        }

        var html = SlottedText.Parse(inlined.Html, slots, markersInComments: true);
        var text = SlottedText.Parse(PlainTextEmail.Compose(email, page, bodyText, slots), slots, markersInComments: false);
        if (html.Count(SlotKind.UnsubscribeUrl) == 0 || text.Count(SlotKind.UnsubscribeUrl) == 0)
        {
            throw new InvalidOperationException($"The {key} template lost the unsubscribe link; every email must carry one.");
        }

        var prepared = new PreparedEmail(email.EditionKey, OneLine(email.Subject), html, text, email.Brand.PublicBaseUrl.TrimEnd('/'));
        LogPrepared(_logger, email.EditionKey, prepared.HtmlByteCount);
        return prepared;
    }

    private static async Task CompileAllTemplatesAsync()
    {
        await Engine.CompileTemplateAsync(LayoutKey).ConfigureAwait(false);
        await Engine.CompileTemplateAsync(ConfirmationKey).ConfigureAwait(false);
        foreach (var key in TemplateKeys.Values)
        {
            await Engine.CompileTemplateAsync(key).ConfigureAwait(false);
        }

        CompilerMemoryReleased = ReleaseCompilerMemory();
    }

    /// <summary>Whether <see cref="ReleaseCompilerMemory"/> found RazorLight's reference list (false after an
    /// upgrade that renamed its internals: nothing breaks, the memory just stays; a test notices).</summary>
    internal static bool CompilerMemoryReleased { get; private set; }

    /// <summary>
    /// Gives back what compiling the templates left behind, once every template is compiled.
    /// </summary>
    /// <remarks>
    /// <para>Compiling the five templates with Roslyn takes the process from ~45 MB to ~195 MB resident,
    /// and most of it stayed for the life of the process (docs/benchmarks.md, "Memory"), measured with
    /// VmRSS before and after each step:</para>
    /// <list type="bullet">
    /// <item>RazorLight's compilation service keeps a <c>MetadataReference</c> to every compile-time
    /// reference assembly of the host (~360 of them), each holding a copy of that assembly's metadata in
    /// native memory: ~30 MB, useful only for compiling again. The set of templates is fixed and all of
    /// them are compiled by now (the class remarks), so the list is emptied. RazorLight has no public
    /// way to do this; it is a private field of its <c>RoslynCompilationService</c> (2.3.1). Should a
    /// template ever be compiled again, RazorLight reads the references again (its "options initialised"
    /// flag is reset with the list), so nothing breaks: it is only slower.</item>
    /// <item>A compacting, aggressive full GC then hands the heap that Roslyn's compilations grew (and
    /// the metadata just released, through its finalizers) back to the operating system: ~10 MB of managed
    /// heap on top.</item>
    /// <item>glibc keeps freed native memory in its arenas; <c>malloc_trim</c> returns it: ~6 MB.</item>
    /// </list>
    /// <para>What remains (~85 MB over the host's own) is Roslyn's and Razor's code: JIT-compiled methods
    /// and type data, which .NET never unloads outside a collectible load context, and the pages of their
    /// assemblies. Tried and not kept: <c>TieredPGO</c>/<c>TieredCompilation</c>/<c>TC_QuickJitForLoops</c>
    /// (within ±4 MB either way), W^X off (no change).</para>
    /// </remarks>
    private static bool ReleaseCompilerMemory()
    {
        var released = false;
        try
        {
            var handler = typeof(RazorLightEngine).GetField("_handler", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(Engine);
            var compiler = handler?.GetType().GetProperty("Compiler")?.GetValue(handler);
            var service = compiler?.GetType().GetField("_compiler", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(compiler);
            var references = service?.GetType().GetField("metadataReferences", BindingFlags.Instance | BindingFlags.NonPublic);
            var initialised = service?.GetType().GetField("_optionsInitialized", BindingFlags.Instance | BindingFlags.NonPublic);
            if (service is not null && references?.GetValue(service) is IList list && initialised?.FieldType == typeof(bool))
            {
                list.Clear();
                initialised.SetValue(service, false);
                released = true;
            }
        }
        catch (Exception ex) when (ex is MemberAccessException or TargetException or ArgumentException or InvalidOperationException)
        {
            // RazorLight's internals moved: keep the references (memory, not correctness).
        }

        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers(); // the released metadata frees its native memory in finalizers
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeMemory.Trim();
        return released;
    }

    /// <summary>glibc's <c>malloc_trim</c>, where there is one (Linux with glibc); elsewhere nothing.</summary>
    private static class NativeMemory
    {
        public static void Trim()
        {
            if (!OperatingSystem.IsLinux())
            {
                return;
            }
            try
            {
                _ = MallocTrim(0);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                // musl and other C libraries: nothing to trim this way.
            }
        }

        [DllImport("libc", EntryPoint = "malloc_trim")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int MallocTrim(nuint pad);
    }

    /// <summary>What the templates rely on; the messages are for the editor, who will see them in a preview.</summary>
    private static void Validate(EditionEmail email)
    {
        if (string.IsNullOrWhiteSpace(email.Subject))
        {
            throw new ArgumentException("The issue needs a subject.", nameof(email));
        }

        if (!EmailMarkdown.IsAbsoluteWebUrl(email.Brand.PublicBaseUrl))
        {
            throw new ArgumentException(
                $"The newsletter's public address must be a full web address (https://…), not '{email.Brand.PublicBaseUrl}'.", nameof(email));
        }

        switch (email)
        {
            case FactOfTheWeekEmail fact:
                foreach (var source in fact.Sources)
                {
                    if (string.IsNullOrWhiteSpace(source.Title))
                    {
                        throw new ArgumentException($"A source needs a title: {source.Url}", nameof(email));
                    }

                    if (!EmailMarkdown.IsAbsoluteWebUrl(source.Url))
                    {
                        throw new ArgumentException(
                            $"The source \"{source.Title}\" needs a full web address (https://…), not '{source.Url}'.", nameof(email));
                    }
                }

                break;

            case SpotlightEmail { ImageUrl: { } imageUrl } spotlight:
                if (!EmailMarkdown.IsAbsoluteWebUrl(imageUrl))
                {
                    throw new ArgumentException($"The feature image needs a full web address (https://…), not '{imageUrl}'.", nameof(email));
                }

                if (string.IsNullOrWhiteSpace(spotlight.ImageAlt))
                {
                    throw new ArgumentException(
                        "The feature image needs alt text: a short description of the picture for readers who cannot see it.", nameof(email));
                }

                break;
        }
    }

    /// <summary>The editor's preheader, or the start of the issue's own words.</summary>
    private static string Preheader(EditionEmail email, string bodyText, string headline)
    {
        var source = email.Preheader;
        if (string.IsNullOrWhiteSpace(source))
        {
            source = email switch
            {
                FactOfTheWeekEmail { Fact: { } fact } when !string.IsNullOrWhiteSpace(fact) => fact,
                TipOfTheWeekEmail { Tip: { } tip } when !string.IsNullOrWhiteSpace(tip) => tip,
                _ => bodyText.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(p => p.Trim().Length > 0) ?? headline,
            };
        }

        var line = OneLine(source);
        if (line.Length <= PreheaderLength)
        {
            return line;
        }

        var cut = line.LastIndexOf(' ', PreheaderLength);
        return string.Concat(line.AsSpan(0, cut > 40 ? cut : PreheaderLength).TrimEnd(), "…");
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static CultureInfo CultureFor(string language)
    {
        try
        {
            return CultureInfo.GetCultureInfo(language);
        }
        catch (CultureNotFoundException)
        {
            return CultureInfo.InvariantCulture;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "CSS inlining for edition {EditionKey}: {Warning}")]
    private static partial void LogInliningWarning(ILogger logger, string editionKey, string warning);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prepared an issue of {EditionKey}: {HtmlBytes} bytes of HTML")]
    private static partial void LogPrepared(ILogger logger, string editionKey, int htmlBytes);
}
