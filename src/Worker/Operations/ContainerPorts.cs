namespace Newsletter.Worker.Operations;

/// <summary>
/// In a container the ports come from <c>ASPNETCORE_HTTP_PORTS</c> (or <c>ASPNETCORE_URLS</c>), but the
/// <c>Urls</c> of appsettings.json, meant for a desktop's <c>localhost:5080</c>, would win over them.
/// When that file is where <c>Urls</c> comes from, the environment's ports are used instead; a
/// <c>Urls</c> given any other way (environment, command line, another settings file) still wins.
/// </summary>
internal static class ContainerPorts
{
    public static void PreferContainerPorts(this WebApplicationBuilder builder)
    {
        var source = ((IConfigurationRoot)builder.Configuration).Providers.LastOrDefault(p => p.TryGet("Urls", out _));
        if (source is not FileConfigurationProvider { Source.Path: "appsettings.json" })
        {
            return;
        }
        var urls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is { Length: > 0 } given ? given
            : Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") is { Length: > 0 } ports
                ? string.Join(';', ports.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"))
                : null;
        if (urls is not null)
        {
            builder.WebHost.UseUrls(urls);
        }
    }
}
