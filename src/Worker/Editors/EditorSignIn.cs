using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Worker.Data;

namespace Newsletter.Worker.Editors;

public enum SignInOutcome
{
    SignedIn,

    /// <summary>Unknown address or wrong password: the two are never told apart.</summary>
    Refused,

    LockedOut,
}

public sealed record SignInResult(SignInOutcome Outcome, Editor? Editor, DateTime? LockedUntil = null);

/// <summary>Checks an editor's password with a lockout after repeated failures, and changes passwords.</summary>
public sealed class EditorSignIn(NewsletterDbContext db, IOptions<EditorsOptions> options, TimeProvider time)
{
    private static readonly PasswordHasher<Editor> Hasher = new();

    // Verified when no account matches, so an unknown address costs as long as a wrong password.
    private static readonly string DecoyHash = Hasher.HashPassword(new Editor { Email = "", PasswordHash = "" }, "decoy");

    public async Task<SignInResult> CheckAsync(string? email, string? password, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var address = EmailAddress.Normalize(email ?? "");
        var editor = await db.Editors.FirstOrDefaultAsync(e => e.Email == address, cancellationToken);
        if (editor is null)
        {
            Hasher.VerifyHashedPassword(new Editor { Email = "", PasswordHash = "" }, DecoyHash, password ?? "");
            return new SignInResult(SignInOutcome.Refused, null);
        }
        if (editor.LockedUntil > now)
        {
            return new SignInResult(SignInOutcome.LockedOut, null, editor.LockedUntil);
        }
        if (!EditorAccounts.PasswordMatches(editor, password ?? ""))
        {
            editor.FailedSignIns++;
            if (editor.FailedSignIns >= options.Value.LockoutFailures)
            {
                editor.LockedUntil = now + options.Value.LockoutDuration;
                editor.FailedSignIns = 0;
            }
            await db.SaveChangesAsync(cancellationToken);
            return editor.LockedUntil > now
                ? new SignInResult(SignInOutcome.LockedOut, null, editor.LockedUntil)
                : new SignInResult(SignInOutcome.Refused, null);
        }
        editor.FailedSignIns = 0;
        editor.LockedUntil = null;
        editor.LastSignInAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return new SignInResult(SignInOutcome.SignedIn, editor);
    }

    /// <summary>An editor whose address a single sign-on provider vouched for: found by that address, never
    /// created (accounts are made only by editors and the command line). Null when there is no such editor.</summary>
    public async Task<Editor?> SingleSignOnAsync(string email, CancellationToken cancellationToken)
    {
        var address = EmailAddress.Normalize(email);
        var editor = await db.Editors.FirstOrDefaultAsync(e => e.Email == address, cancellationToken);
        if (editor is not null)
        {
            // No password was tried, so the password lockout and its counter are left as they are.
            editor.LastSignInAt = time.GetUtcNow().UtcDateTime;
            await db.SaveChangesAsync(cancellationToken);
        }
        return editor;
    }

    /// <summary>Sets a new password; null when done, else what is wrong with it.</summary>
    public async Task<string?> ChangePasswordAsync(int editorId, string? current, string? next, CancellationToken cancellationToken)
    {
        var editor = await db.Editors.FirstOrDefaultAsync(e => e.Id == editorId, cancellationToken);
        if (editor is null || !EditorAccounts.PasswordMatches(editor, current ?? ""))
        {
            return "The current password is not right.";
        }
        var min = options.Value.MinimumPasswordLength;
        if (next is null || next.Length < min)
        {
            return $"The new password needs at least {min} characters.";
        }
        if (next == current || next.Contains(editor.Email, StringComparison.OrdinalIgnoreCase))
        {
            return "The new password must differ from the current one and from your email address.";
        }
        editor.PasswordHash = Hasher.HashPassword(editor, next);
        editor.MustChangePassword = false;
        await db.SaveChangesAsync(cancellationToken);
        return null;
    }

    /// <summary>Changes whenever the password does: a sign-in made with an older password stops working.</summary>
    public static string Stamp(Editor editor) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(editor.PasswordHash)), 0, 8);
}
