using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Newsletter.Templates.Rendering;

namespace Newsletter.Templates;

public static class TemplatesServiceCollectionExtensions
{
    /// <summary>
    /// Adds the email renderer as a singleton, with the editor's overrides from <c>Templates:Folder</c>
    /// (bound from the host's configuration, checked at start). The host must set
    /// <c>PreserveCompilationContext</c> so that RazorLight can compile the templates at run time; call
    /// <see cref="IEmailRenderer.WarmUpAsync"/> at start, or <see cref="IEmailRenderer.CheckTemplatesAsync"/> when overridden.
    /// </summary>
    public static IServiceCollection AddNewsletterTemplates(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Bound from the host's configuration when it has one (a bare service collection gets the built-in templates).
        services.AddOptions<TemplatesOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(TemplatesOptions.Section).Bind(o))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TemplatesOptions>, TemplatesOptionsValidator>());
        services.TryAddSingleton<IEmailRenderer, RazorEmailRenderer>();
        return services;
    }
}
