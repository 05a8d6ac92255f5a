using Newsletter.Tests.Infrastructure.Databases;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

// The delivery suite again, on a real PostgreSQL server and, when NEWSLETTER_TEST_SQLSERVER names one, on SQL Server.

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class ClaimSizeTestsOnPostgreSql : ClaimSizeTests
{
    public ClaimSizeTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class ClaimSizeTestsOnSqlServer : ClaimSizeTests
{
    public ClaimSizeTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class ConnectionFaultTestsOnPostgreSql : ConnectionFaultTests
{
    public ConnectionFaultTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class ConnectionFaultTestsOnSqlServer : ConnectionFaultTests
{
    public ConnectionFaultTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class CrisisLineTestsOnPostgreSql : CrisisLineTests
{
    public CrisisLineTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class CrisisLineTestsOnSqlServer : CrisisLineTests
{
    public CrisisLineTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class EndOfSendTestsOnPostgreSql : EndOfSendTests
{
    public EndOfSendTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class EndOfSendTestsOnSqlServer : EndOfSendTests
{
    public EndOfSendTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class EndToEndSmtpTestsOnPostgreSql : EndToEndSmtpTests
{
    public EndToEndSmtpTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class EndToEndSmtpTestsOnSqlServer : EndToEndSmtpTests
{
    public EndToEndSmtpTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class PreEncodeSwitchTestsOnPostgreSql : PreEncodeSwitchTests
{
    public PreEncodeSwitchTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class PreEncodeSwitchTestsOnSqlServer : PreEncodeSwitchTests
{
    public PreEncodeSwitchTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class ProcessTestsOnPostgreSql : ProcessTests
{
    public ProcessTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class ProcessTestsOnSqlServer : ProcessTests
{
    public ProcessTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class PublicationControlTestsOnPostgreSql : PublicationControlTests
{
    public PublicationControlTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class PublicationControlTestsOnSqlServer : PublicationControlTests
{
    public PublicationControlTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class SmtpReplyTestsOnPostgreSql : SmtpReplyTests
{
    public SmtpReplyTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class SmtpReplyTestsOnSqlServer : SmtpReplyTests
{
    public SmtpReplyTestsOnSqlServer() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class SmtpLoginTestsOnPostgreSql : SmtpLoginTests
{
    public SmtpLoginTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class SmtpLoginTestsOnSqlServer : SmtpLoginTests
{
    public SmtpLoginTestsOnSqlServer() => TestDatabases.UseFor(this);
}


[OnDatabase(DatabaseProvider.PostgreSql)]
public sealed class CompactionTestsOnPostgreSql : CompactionTests
{
    public CompactionTestsOnPostgreSql() => TestDatabases.UseFor(this);
}

[OnDatabase(DatabaseProvider.SqlServer)]
public sealed class CompactionTestsOnSqlServer : CompactionTests
{
    public CompactionTestsOnSqlServer() => TestDatabases.UseFor(this);
}
