namespace Newsletter.Worker.Editors;

public static class EditorsExtensions
{
    /// <summary>The editors' accounts, the audit log of their changes, and the emails the service sends them.</summary>
    public static IHostApplicationBuilder AddNewsletterEditors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EditorsOptions>().BindConfiguration(EditorsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<EditorAccounts>();
        builder.Services.AddScoped<EditorSignIn>();
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddSingleton<EditorMail>();
        builder.Services.AddScoped<EditorNotifications>();
        return builder;
    }
}
