using Newsletter.Worker;
using Newsletter.Worker.Cli;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Http;
using Newsletter.Worker.Scheduling;

// `newsletter <command> …` runs one command and exits; `newsletter` (or `newsletter run`) runs the service.
if (NewsletterCli.IsCommand(args))
{
    return await NewsletterCli.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = NewsletterCli.ServiceArgs(args),
    ContentRootPath = AppContext.BaseDirectory,
});
builder.AddNewsletterCore();
builder.AddNewsletterScheduling();
builder.AddNewsletterDeliveryService();
builder.AddNewsletterHttp();

var app = builder.Build();
app.MapNewsletterEndpoints();
await app.Services.PrepareNewsletterAsync(warmUpTemplates: true);
await app.RunAsync();
return 0;

public partial class Program;
