namespace Newsletter.Worker.Issues;

public static class IssuesExtensions
{
    /// <summary>The editor's queue of issues: checking issue files and queueing, listing, cancelling them.</summary>
    public static IHostApplicationBuilder AddNewsletterIssues(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<IssueQueue>();
        builder.Services.AddScoped<IssueTestSend>();
        return builder;
    }
}
