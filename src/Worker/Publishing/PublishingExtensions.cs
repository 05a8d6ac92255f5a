namespace Newsletter.Worker.Publishing;

public static class PublishingExtensions
{
    /// <summary>The publisher: a slot (or the editor's "send now") becomes a publication with its recipient snapshot.</summary>
    public static IHostApplicationBuilder AddNewsletterPublishing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<Publisher>();
        return builder;
    }
}
