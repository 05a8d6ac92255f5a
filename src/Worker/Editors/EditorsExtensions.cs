namespace Newsletter.Worker.Editors;

public static class EditorsExtensions
{
    /// <summary>The editors' accounts and the audit log of their changes.</summary>
    public static IHostApplicationBuilder AddNewsletterEditors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EditorsOptions>().BindConfiguration(EditorsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<EditorAccounts>();
        builder.Services.AddScoped<EditorSignIn>();
        builder.Services.AddScoped<AuditLog>();
        return builder;
    }
}
