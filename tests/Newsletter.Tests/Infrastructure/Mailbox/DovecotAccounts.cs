namespace Newsletter.Tests.Infrastructure.Mailbox;

/// <summary>
/// The system accounts a test Dovecot runs as. Unprivileged, everything is the current user: Dovecot
/// cannot switch users, so services, login processes and mail access all stay as we are. As root,
/// Dovecot refuses to run login processes or touch mail as root, so both use <c>nobody</c>.
/// </summary>
internal sealed record DovecotAccounts(string InternalUser, string LoginUser, int MailUid, int MailGid)
{
    public const string Nobody = "nobody";

    public static bool RunningAsRoot => Environment.IsPrivilegedProcess;

    public static DovecotAccounts ForCurrentProcess()
    {
        if (RunningAsRoot)
        {
            var (uid, gid) = PasswdEntry(Nobody);
            return new DovecotAccounts(Environment.UserName, Nobody, uid, gid);
        }

        var (ownUid, ownGid) = (StatusId("Uid:"), StatusId("Gid:"));
        return new DovecotAccounts(Environment.UserName, Environment.UserName, ownUid, ownGid);
    }

    // The effective id is the second number on the Uid:/Gid: line of /proc/self/status.
    private static int StatusId(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return int.Parse(line[field.Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (int Uid, int Gid) PasswdEntry(string user)
    {
        var fields = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 3 && f[0] == user)
            ?? throw new InvalidOperationException($"There is no '{user}' in /etc/passwd; as root the test Dovecot needs it for login processes and mail access.");
        return (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
    }
}
