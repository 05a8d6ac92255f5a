namespace Newsletter.Worker.Publishing;

public static class PublishingExtensions
{
    /// <summary>The publisher: a slot (or the editor's "send now") becomes a publication with its recipient snapshot; and the calendar of slots it follows.</summary>
    public static IHostApplicationBuilder AddNewsletterPublishing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<Publisher>();
        builder.Services.AddScoped<EditionPlan>();
        return builder;
    }
}
