using System.Collections.Concurrent;
using System.Text;
using RazorLight;
using RazorLight.Razor;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// One RazorLight engine per template set's contents, for the life of the process: RazorLight compiles
/// each template key into an assembly that is never unloaded, so the built-in set is compiled once, and a
/// set with the editor's overrides once more, however many renderers use it.
/// </summary>
internal sealed class TemplateEngine
{
    private static readonly ConcurrentDictionary<string, Lazy<TemplateEngine>> Engines = new(StringComparer.Ordinal);

    private TemplateEngine(TemplateSet set)
    {
        Engine = new RazorLightEngineBuilder()
            .UseProject(new TemplateProject(set))
            .UseMemoryCachingProvider()
            .ExcludeAssemblies(CompilerReferences.Excluded())
            .Build();
        // Compiling the same key twice at once would load two assemblies for it; every template is compiled
        // once, under this one task, before anything renders. Not cancellable: it is shared by all callers.
        CompileAll = new Lazy<Task>(CompileAllAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public RazorLightEngine Engine { get; }

    public Lazy<Task> CompileAll { get; }

    /// <summary>Every Razor template key, in the order they are compiled.</summary>
    public static IEnumerable<string> Keys =>
        [RazorEmailRenderer.LayoutKey, RazorEmailRenderer.ConfirmationKey, .. RazorEmailRenderer.TemplateKeys.Values];

    public static TemplateEngine For(TemplateSet set) =>
        Engines.GetOrAdd(set.Fingerprint, _ => new Lazy<TemplateEngine>(() => new TemplateEngine(set))).Value;

    private async Task CompileAllAsync()
    {
        foreach (var key in Keys)
        {
            await Engine.CompileTemplateAsync(key).ConfigureAwait(false);
        }
    }
}

/// <summary>The templates RazorLight reads: the editor's file for a key when there is one, else the built-in one.</summary>
internal sealed class TemplateProject(TemplateSet set) : RazorLightProject
{
    private readonly EmbeddedRazorProject _builtIn = new(typeof(TemplateProject).Assembly, RazorEmailRenderer.ViewsNamespace);

    public override Task<RazorLightProjectItem> GetItemAsync(string templateKey) =>
        set.Overrides.TryGetValue(templateKey + ".cshtml", out var file)
            ? Task.FromResult<RazorLightProjectItem>(new OverrideItem(templateKey, file.Content))
            : _builtIn.GetItemAsync(templateKey);

    public override Task<IEnumerable<RazorLightProjectItem>> GetImportsAsync(string templateKey) => _builtIn.GetImportsAsync(templateKey);

    /// <summary>An overriding file's text. Not RazorLight's text item: that one drops the default usings (System.Linq…).</summary>
    private sealed class OverrideItem(string key, string content) : RazorLightProjectItem
    {
        public override string Key => key;

        public override bool Exists => true;

        public override Stream Read() => new MemoryStream(Encoding.UTF8.GetBytes(content));
    }
}
