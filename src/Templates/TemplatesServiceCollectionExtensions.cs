using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Newsletter.Templates.Rendering;

namespace Newsletter.Templates;

public static class TemplatesServiceCollectionExtensions
{
    /// <summary>
    /// Adds the email renderer as a singleton. The host must set <c>PreserveCompilationContext</c> so that
    /// RazorLight can compile the templates at run time; call <see cref="IEmailRenderer.WarmUpAsync"/> at start.
    /// </summary>
    public static IServiceCollection AddNewsletterTemplates(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IEmailRenderer, RazorEmailRenderer>();
        return services;
    }
}
