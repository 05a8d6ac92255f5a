using MimeKit;

namespace Newsletter.Tests.Infrastructure.Mailbox;

/// <summary>A message file in a maildir folder, as it lies on disk (cur/ or new/).</summary>
/// <param name="Folder">The IMAP name of its folder ("INBOX", "Processed").</param>
/// <param name="Id">The file name up to the info part (":2,…"); it stays the same while the message moves from new/ to cur/ and gains flags.</param>
/// <param name="IsNew">Still in new/: no IMAP or POP3 session has seen it yet.</param>
/// <param name="Flags">The maildir flags after ":2," (S seen, T deleted but not yet expunged, F flagged, R answered, D draft).</param>
public sealed record MaildirMessage(string Folder, string Id, bool IsNew, string Flags, byte[] Raw)
{
    public bool IsSeen => Flags.Contains('S', StringComparison.Ordinal);

    public bool IsDeleted => Flags.Contains('T', StringComparison.Ordinal);

    public MimeMessage Parse()
    {
        using var stream = new MemoryStream(Raw, writable: false);
        return MimeMessage.Load(stream);
    }
}

/// <summary>
/// Reads and writes a Maildir++ mailbox directly, so tests can put mail in and see what became of it
/// without going through IMAP or the code under test. INBOX is the root; folder "X" is the directory ".X".
/// </summary>
internal sealed class Maildir
{
    private static long _sequence;

    private readonly string _root;
    private readonly UnixFileMode? _shared;

    /// <param name="shared">When set, directories get this mode and files are world-readable: the mail
    /// user is then someone else (as root, Dovecot reads and moves the files as nobody).</param>
    public Maildir(string root, UnixFileMode? shared)
    {
        _root = root;
        _shared = shared;
    }

    public string Root => _root;

    public static bool IsInbox(string folder) => string.Equals(folder, "INBOX", StringComparison.OrdinalIgnoreCase);

    public string PathOf(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (IsInbox(folder))
        {
            return _root;
        }
        // Maildir++ keeps the hierarchy flat under the root, '.' separating levels; nothing else is mapped.
        if (folder.Contains('/', StringComparison.Ordinal) || folder.StartsWith('.') || !folder.All(char.IsAscii))
        {
            throw new ArgumentException($"'{folder}': use ASCII IMAP names with '.' between levels.", nameof(folder));
        }
        return Path.Combine(_root, "." + folder);
    }

    public bool Exists(string folder) => Directory.Exists(Path.Combine(PathOf(folder), "cur"));

    /// <summary>Creates the folder if it is missing, complete at once: built under tmp/ and renamed into place.</summary>
    public void EnsureFolder(string folder)
    {
        var path = PathOf(folder);
        if (Exists(folder))
        {
            return;
        }
        if (IsInbox(folder))
        {
            CreateMaildirDirectories(path);
            return;
        }

        EnsureFolder("INBOX");
        var staging = Path.Combine(_root, "tmp", $"folder-{Guid.NewGuid():N}");
        CreateMaildirDirectories(staging);
        File.WriteAllBytes(Path.Combine(staging, "maildirfolder"), []);
        ShareFile(Path.Combine(staging, "maildirfolder"));
        try
        {
            Directory.Move(staging, path);
        }
        catch (IOException) when (Exists(folder))
        {
            // Dovecot (a CREATE over IMAP) made it in the meantime; theirs will do.
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Delivers the way an MTA does: write into tmp/, then rename into new/ under a unique name.</summary>
    public async Task<string> DropAsync(byte[] raw, string folder)
    {
        EnsureFolder(folder);
        var path = PathOf(folder);
        var now = TimeProvider.System.GetUtcNow();
        var micros = now.Ticks % TimeSpan.TicksPerSecond / 10;
        var host = Environment.MachineName.Replace("/", @"\057", StringComparison.Ordinal).Replace(":", @"\072", StringComparison.Ordinal);
        var name = $"{now.ToUnixTimeSeconds()}.M{micros:D6}P{Environment.ProcessId}Q{Interlocked.Increment(ref _sequence)}.{host}";

        var temporary = Path.Combine(path, "tmp", name);
        await File.WriteAllBytesAsync(temporary, raw);
        ShareFile(temporary);
        File.Move(temporary, Path.Combine(path, "new", name));
        return name;
    }

    /// <summary>
    /// What the folder holds (new/ and cur/) in name order, which is roughly delivery order. Dovecot renames files while it works
    /// (new/ to cur/, flag changes), so listings are repeated until two agree.
    /// </summary>
    public IReadOnlyList<MaildirMessage> Messages(string folder)
    {
        if (!Exists(folder))
        {
            return [];
        }
        var path = PathOf(folder);
        for (var attempt = 1; ; attempt++)
        {
            var listing = List(path);
            if (!listing.SequenceEqual(List(path)) && attempt < 20)
            {
                continue;
            }
            var messages = new List<MaildirMessage>(listing.Count);
            foreach (var (id, isNew, flags, file) in listing)
            {
                if (TryRead(file) is not { } raw)
                {
                    break;
                }
                messages.Add(new MaildirMessage(folder, id, isNew, flags, raw));
            }
            if (messages.Count == listing.Count || attempt >= 20)
            {
                return messages;
            }
        }
    }

    private static byte[]? TryRead(string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    // Names are deduplicated by id: a file renamed from new/ to cur/ between the two reads is seen twice.
    private static List<(string Id, bool IsNew, string Flags, string File)> List(string path)
    {
        var found = new Dictionary<string, (string Id, bool IsNew, string Flags, string File)>(StringComparer.Ordinal);
        foreach (var (sub, isNew) in new[] { ("new", true), ("cur", false) })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(path, sub)))
            {
                var name = Path.GetFileName(file);
                var info = name.IndexOf(":2,", StringComparison.Ordinal);
                var id = info < 0 ? name : name[..info];
                found[id] = (id, isNew, info < 0 ? "" : name[(info + 3)..], file);
            }
        }
        return [.. found.Values.OrderBy(m => m.Id, StringComparer.Ordinal)];
    }

    private void CreateMaildirDirectories(string path)
    {
        foreach (var directory in new[] { path, Path.Combine(path, "cur"), Path.Combine(path, "new"), Path.Combine(path, "tmp") })
        {
            Directory.CreateDirectory(directory);
            if (_shared is { } mode)
            {
                // Set after creating: mkdir's mode is narrowed by the umask.
                FileModes.Set(directory, mode);
            }
        }
    }

    private void ShareFile(string file)
    {
        if (_shared is not null)
        {
            FileModes.Set(file, FileModes.Readable);
        }
    }
}

/// <summary>The few permission modes the test Dovecot's folder uses.</summary>
internal static class FileModes
{
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode Readable = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    public const UnixFileMode Traversable = Private | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    public const UnixFileMode Open = Traversable | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    // Dovecot runs only on Unix; elsewhere the fixture has already failed on the missing executable.
    public static void Set(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
