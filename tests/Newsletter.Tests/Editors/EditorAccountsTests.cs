using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Editors;

namespace Newsletter.Tests.Editors;

/// <summary>Editor accounts: only a PasswordHasher hash is stored; one-time passwords; refusals change nothing.</summary>
public sealed class EditorAccountsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2027, 1, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly TestApp _app = TestApp.Create();

    public Task InitializeAsync() => _app.CreateDatabaseAsync();

    public Task DisposeAsync() => _app.DisposeAsync().AsTask();

    private EditorAccounts Accounts(out Worker.Data.NewsletterDbContext db)
    {
        db = _app.OpenDb();
        return new EditorAccounts(db, new FakeTimeProvider(Now));
    }

    [Fact]
    public async Task A_new_editor_gets_a_one_time_password_of_which_only_a_hash_is_stored()
    {
        var accounts = Accounts(out var db);
        await using var _ = db;

        var added = await accounts.AddAsync("  Sam@Example.org ", "Sam", CancellationToken.None);

        Assert.True(added.Succeeded, added.Error);
        var password = added.OneTimePassword!;
        Assert.Matches("^[a-z2-9]{5}(-[a-z2-9]{5}){3}$", password);
        await using var check = _app.OpenDb();
        var stored = await check.Editors.SingleAsync();
        Assert.Equal("sam@example.org", stored.Email);
        Assert.True(stored.MustChangePassword);
        Assert.Equal(Now.UtcDateTime, stored.CreatedAt);
        Assert.DoesNotContain(password, stored.PasswordHash, StringComparison.Ordinal);
        Assert.DoesNotContain(password.Replace("-", "", StringComparison.Ordinal), stored.PasswordHash, StringComparison.Ordinal);
        Assert.True(EditorAccounts.PasswordMatches(stored, password));
        Assert.False(EditorAccounts.PasswordMatches(stored, password.ToUpperInvariant()));
        Assert.False(EditorAccounts.PasswordMatches(stored, ""));
    }

    [Fact]
    public async Task A_reset_replaces_the_password_and_ends_a_lockout()
    {
        var accounts = Accounts(out var db);
        await using var _ = db;
        var first = (await accounts.AddAsync("sam@example.org", null, CancellationToken.None)).OneTimePassword!;
        var editor = await db.Editors.SingleAsync();
        editor.FailedSignIns = 7;
        editor.LockedUntil = Now.UtcDateTime.AddHours(1);
        editor.MustChangePassword = false;
        await db.SaveChangesAsync();

        var reset = await accounts.ResetPasswordAsync("SAM@example.org", CancellationToken.None);

        Assert.True(reset.Succeeded, reset.Error);
        Assert.NotEqual(first, reset.OneTimePassword);
        await using var check = _app.OpenDb();
        var stored = await check.Editors.SingleAsync();
        Assert.False(EditorAccounts.PasswordMatches(stored, first));
        Assert.True(EditorAccounts.PasswordMatches(stored, reset.OneTimePassword!));
        Assert.True(stored.MustChangePassword);
        Assert.Equal(0, stored.FailedSignIns);
        Assert.Null(stored.LockedUntil);
    }

    [Theory]
    [InlineData("add", "not an address", "not an address: ")]
    [InlineData("add", "SAM@example.org", "sam@example.org is already an editor")]
    [InlineData("remove", "kim@example.org", "kim@example.org is not an editor")]
    [InlineData("reset", "kim@example.org", "kim@example.org is not an editor")]
    public async Task A_refused_change_says_why_and_changes_nothing(string change, string email, string expected)
    {
        var accounts = Accounts(out var db);
        await using var _ = db;
        await accounts.AddAsync("sam@example.org", null, CancellationToken.None);
        var before = await db.Editors.AsNoTracking().SingleAsync();

        var result = change switch
        {
            "add" => await accounts.AddAsync(email, null, CancellationToken.None),
            "remove" => await accounts.RemoveAsync(email, CancellationToken.None),
            _ => await accounts.ResetPasswordAsync(email, CancellationToken.None),
        };

        Assert.False(result.Succeeded);
        Assert.StartsWith(expected, result.Error, StringComparison.Ordinal);
        Assert.Null(result.OneTimePassword);
        await using var check = _app.OpenDb();
        var after = await check.Editors.SingleAsync();
        Assert.Equal(before.PasswordHash, after.PasswordHash);
    }
}
