namespace Newsletter.Tests.Infrastructure.Mailbox;

/// <summary>One <see cref="TestDovecot"/> per test class (xUnit class fixture); classes run theirs in parallel.</summary>
public sealed class DovecotFixture : IAsyncLifetime
{
    public TestDovecot Dovecot { get; private set; } = null!;

    public async Task InitializeAsync() => Dovecot = await TestDovecot.StartAsync();

    public async Task DisposeAsync()
    {
        if (Dovecot is not null)
        {
            await Dovecot.DisposeAsync();
        }
    }
}
