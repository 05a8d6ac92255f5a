using Newsletter.Worker.Data;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Newsletter.Tests.Infrastructure.Databases;

/// <summary>
/// A fact that runs on each database its class is derived for (<see cref="OnDatabaseAttribute"/>); on a
/// SQL Server class without <c>NEWSLETTER_TEST_SQLSERVER</c> it is reported as skipped, with the reason.
/// </summary>
[XunitTestCaseDiscoverer("Newsletter.Tests.Infrastructure.Databases.DatabaseFactDiscoverer", "Newsletter.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DatabaseFactAttribute : FactAttribute;

/// <summary>The same for a theory: on a SQL Server class without a server, one skipped case.</summary>
[XunitTestCaseDiscoverer("Newsletter.Tests.Infrastructure.Databases.DatabaseTheoryDiscoverer", "Newsletter.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DatabaseTheoryAttribute : TheoryAttribute;

/// <summary>Runs the class's tests with <see cref="TestApp"/> on <see cref="Provider"/> instead of SQLite.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class OnDatabaseAttribute(DatabaseProvider provider) : Attribute
{
    public DatabaseProvider Provider { get; } = provider;
}

public sealed class DatabaseFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo fact) =>
        SkippedTestCase.WithoutServer(diagnostics, options, method) is { } skipped
            ? [skipped]
            : [new XunitTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method)];
}

public sealed class DatabaseTheoryDiscoverer(IMessageSink diagnostics) : TheoryDiscoverer(diagnostics)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo theory) =>
        SkippedTestCase.WithoutServer(DiagnosticMessageSink, options, method) is { } skipped ? [skipped] : base.Discover(options, method, theory);
}

/// <summary>A test case reported as skipped with a reason decided at discovery.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = "";

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod method, string reason)
        : base(diagnostics, display, displayOptions, method)
    {
        _reason = reason;
    }

    /// <summary>A skipped case when <paramref name="method"/>'s class runs on SQL Server and no server is given; else null.</summary>
    public static SkippedTestCase? WithoutServer(IMessageSink diagnostics, ITestFrameworkDiscoveryOptions options, ITestMethod method)
    {
        var on = method.TestClass.Class.GetCustomAttributes(typeof(OnDatabaseAttribute)).FirstOrDefault()
            ?.GetConstructorArguments().OfType<DatabaseProvider>().FirstOrDefault();
        return on == DatabaseProvider.SqlServer && TestDatabases.SqlServer is null
            ? new SkippedTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method,
                $"{TestDatabases.SqlServerVariable} is not set: give it a SQL Server connection string to run this on SQL Server")
            : null;
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => _reason;

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("Reason", _reason);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _reason = data.GetValue<string>("Reason");
        base.Deserialize(data);
    }
}
