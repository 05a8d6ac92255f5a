using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Editors;

/// <summary>An account change's answer: the editor, and the one-time password to hand them when one was made.</summary>
public sealed record EditorChange(Editor? Editor, string? OneTimePassword, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// The editors who may sign in to the workspace. Passwords are ASP.NET Core's <see cref="PasswordHasher{TUser}"/>
/// hashes; a new account, and a reset, get a one-time password that must be changed at the first sign-in.
/// </summary>
public sealed class EditorAccounts(NewsletterDbContext db, TimeProvider time)
{
    private static readonly PasswordHasher<Editor> Hasher = new();

    // No look-alike characters (0/o, 1/l/i): the password is read off a screen and typed.
    private const string OneTimeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    public async Task<EditorChange> AddAsync(string email, string? name, CancellationToken cancellationToken)
    {
        if (!EmailAddress.TryValidate(email, out var address, out var error))
        {
            return new EditorChange(null, null, $"{email.Trim()}: {error}");
        }
        if (await db.Editors.AnyAsync(e => e.Email == address, cancellationToken))
        {
            return new EditorChange(null, null,
                $"{address} is already an editor (a new password: 'newsletter editors reset-password {address}')");
        }
        var password = NewOneTimePassword();
        var editor = new Editor
        {
            Email = address,
            Name = string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            PasswordHash = "",
            MustChangePassword = true,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        editor.PasswordHash = Hasher.HashPassword(editor, password);
        db.Editors.Add(editor);
        await db.SaveChangesAsync(cancellationToken);
        return new EditorChange(editor, password, null);
    }

    public Task<List<Editor>> ListAsync(CancellationToken cancellationToken) =>
        db.Editors.AsNoTracking().OrderBy(e => e.Email).ToListAsync(cancellationToken);

    public async Task<EditorChange> RemoveAsync(string email, CancellationToken cancellationToken)
    {
        if (await FindAsync(email, cancellationToken) is not { } editor)
        {
            return NotFound(email);
        }
        db.Editors.Remove(editor);
        await db.SaveChangesAsync(cancellationToken);
        return new EditorChange(editor, null, null);
    }

    /// <summary>A new one-time password; the old one stops working, and a lockout ends.</summary>
    public async Task<EditorChange> ResetPasswordAsync(string email, CancellationToken cancellationToken)
    {
        if (await FindAsync(email, cancellationToken) is not { } editor)
        {
            return NotFound(email);
        }
        var password = NewOneTimePassword();
        editor.PasswordHash = Hasher.HashPassword(editor, password);
        editor.MustChangePassword = true;
        editor.FailedSignIns = 0;
        editor.LockedUntil = null;
        await db.SaveChangesAsync(cancellationToken);
        return new EditorChange(editor, password, null);
    }

    /// <summary>Whether <paramref name="password"/> is the editor's (a hash in an older format counts).</summary>
    public static bool PasswordMatches(Editor editor, string password) =>
        Hasher.VerifyHashedPassword(editor, editor.PasswordHash, password) != PasswordVerificationResult.Failed;

    private Task<Editor?> FindAsync(string email, CancellationToken cancellationToken)
    {
        var address = EmailAddress.Normalize(email);
        return db.Editors.FirstOrDefaultAsync(e => e.Email == address, cancellationToken);
    }

    private static EditorChange NotFound(string email) =>
        new(null, null, $"{EmailAddress.Normalize(email)} is not an editor (see 'newsletter editors list')");

    /// <summary>Twenty characters in groups of five, ~99 bits.</summary>
    private static string NewOneTimePassword()
    {
        var raw = RandomNumberGenerator.GetString(OneTimeAlphabet, 20);
        return string.Join('-', raw.Chunk(5).Select(c => new string(c)));
    }
}
