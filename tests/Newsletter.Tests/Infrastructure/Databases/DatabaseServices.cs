using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Infrastructure.Databases;

public static class DatabaseServices
{
    /// <summary>Configures the DbContext of every provider (an interceptor, say), whichever the test runs on.</summary>
    public static IServiceCollection ConfigureNewsletterDb(this IServiceCollection services, Action<DbContextOptionsBuilder> configure) => services
        .ConfigureDbContext<SqliteNewsletterDbContext>(configure)
        .ConfigureDbContext<PostgreSqlNewsletterDbContext>(configure)
        .ConfigureDbContext<SqlServerNewsletterDbContext>(configure);
}
