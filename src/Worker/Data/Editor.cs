namespace Newsletter.Worker.Data;

/// <summary>A person who may sign in to the editor's workspace. The password is stored only as
/// ASP.NET Core's <c>PasswordHasher</c> hash.</summary>
public sealed class Editor
{
    public int Id { get; set; }

    /// <summary>Lower-case, trimmed: the sign-in name.</summary>
    public required string Email { get; set; }

    public string? Name { get; set; }

    public required string PasswordHash { get; set; }

    /// <summary>Set for a one-time password (a new account, a reset): the first sign-in must choose a new one.</summary>
    public bool MustChangePassword { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? LastSignInAt { get; set; }

    /// <summary>Failed sign-ins since the last good one; past the limit the account is locked for a while.</summary>
    public int FailedSignIns { get; set; }

    public DateTime? LockedUntil { get; set; }

    /// <summary>Set when the editor asked not to be emailed about an edition's next slot with nothing queued.</summary>
    public bool MuteEmptySlotWarnings { get; set; }

    /// <summary>Set when the editor asked not to get a summary email after each publication.</summary>
    public bool MutePublicationSummaries { get; set; }
}

/// <summary>One change someone made: who, what, when. Written for every change an editor makes,
/// from the command line or the workspace; never updated or deleted by the app.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTime At { get; set; }

    /// <summary>An editor's email, or "command line (USER)" for a change made with the newsletter command.</summary>
    public required string Actor { get; set; }

    /// <summary>What was done, as a short verb phrase: "editor added", "issue queued", "publication paused".</summary>
    public required string Action { get; set; }

    /// <summary>What it was done to: "issue 12", "editor sam@example.org".</summary>
    public string? Target { get; set; }

    public string? Details { get; set; }
}
