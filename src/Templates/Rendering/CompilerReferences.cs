using System.Reflection;
using Microsoft.Extensions.DependencyModel;

namespace Newsletter.Templates.Rendering;

/// <summary>
/// Which of the host's compile-time references RazorLight compiles the templates against. By default
/// RazorLight loads the metadata of every one (~380 with the web framework, EF Core, Roslyn…) and keeps it
/// for the life of the process; the templates need only the base library, RazorLight and this assembly.
/// Turned off (everything, as RazorLight does by default) with the runtime switch
/// <c>Newsletter.Templates.CompileAgainstAllReferences</c>.
/// </summary>
internal static class CompilerReferences
{
    internal const string AllReferencesSwitch = "Newsletter.Templates.CompileAgainstAllReferences";

    /// <summary>Packages and projects the compiled templates use; framework <c>System.*</c> reference assemblies are kept too.</summary>
    private static readonly HashSet<string> Needed = new(StringComparer.OrdinalIgnoreCase)
    {
        typeof(CompilerReferences).Assembly.GetName().Name!,
        "RazorLight", "Microsoft.AspNetCore.Html.Abstractions", "Microsoft.AspNetCore.Razor", "Microsoft.AspNetCore.Razor.Runtime",
        "netstandard", "mscorlib", "Microsoft.CSharp", "Microsoft.Win32.Primitives",
    };

    /// <summary>The compile libraries RazorLight should leave out (its <c>ExcludeAssemblies</c>); none when switched off.</summary>
    public static string[] Excluded()
    {
        if (AppContext.TryGetSwitch(AllReferencesSwitch, out var all) && all)
        {
            return [];
        }
        // The context RazorLight itself reads (the entry assembly's deps.json).
        var context = Assembly.GetEntryAssembly() is { } entry ? DependencyContext.Load(entry) : null;
        return context is null
            ? []
            : context.CompileLibraries.Where(l => !IsNeeded(l)).Select(l => l.Name).ToArray();
    }

    private static bool IsNeeded(CompilationLibrary library) =>
        Needed.Contains(library.Name)
        || (library.Type == "referenceassembly" && library.Name.StartsWith("System.", StringComparison.Ordinal));
}
