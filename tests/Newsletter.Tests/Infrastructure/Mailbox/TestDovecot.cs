using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Newsletter.Tests.Infrastructure.Mailbox;

/// <summary>
/// A real Dovecot (Debian's dovecot-imapd and dovecot-pop3d; .ci/run installs them) serving one maildir
/// user on 127.0.0.1: IMAP with STARTTLS, IMAPS, POP3 with STLS and POP3S, each on a free port. Everything
/// lives in a fresh temporary folder (configuration, self-signed certificate, maildir, runtime state, log);
/// no system service is involved and it runs as root or as an ordinary user.
/// </summary>
/// <remarks>
/// <para>Tests put mail in and check what became of it through the maildir itself (<see cref="DropAsync(string, string)"/>,
/// <see cref="Messages"/>), not through IMAP. Folder "X" is the Maildir++ directory ".X"; INBOX is the root.</para>
/// <para>Plain-text logins are allowed without TLS, and the failed-login penalty (a growing delay per client
/// address) is switched off so a test of wrong credentials does not slow later logins.</para>
/// <para><see cref="StopAsync"/> kills Dovecot and all its processes (a crash, not a shutdown); <see cref="RestartAsync"/>
/// brings it back on the same ports with the same mail, and throws if another process took a port meanwhile.</para>
/// </remarks>
public sealed class TestDovecot : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/sbin/dovecot";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly string _folder;
    private readonly DovecotAccounts _accounts;
    private readonly Maildir _maildir;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly StringBuilder _output = new();
    private Process? _process;
    private bool _disposed;

    private TestDovecot(string folder)
    {
        _folder = folder;
        _accounts = DovecotAccounts.ForCurrentProcess();
        // As root the mail user is nobody, who must reach into this folder and write the maildir we fill.
        var shared = DovecotAccounts.RunningAsRoot ? FileModes.Open : (UnixFileMode?)null;
        Directory.CreateDirectory(Path.Combine(folder, "mail"));
        if (shared is not null)
        {
            FileModes.Set(folder, FileModes.Traversable);
            FileModes.Set(Path.Combine(folder, "mail"), FileModes.Traversable);
        }
        _maildir = new Maildir(Path.Combine(folder, "mail", UserName), shared);
        _maildir.EnsureFolder("INBOX");
        Password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        Certificate = DovecotFiles.CreateCertificate(folder);
        DovecotFiles.WriteUsers(folder, UserName, Password, _accounts, _maildir.Root);
    }

    /// <summary>Always the IPv4 loopback address (the certificate names it, and localhost).</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>IMAP in plain text, STARTTLS offered.</summary>
    public int ImapPort { get; private set; }

    /// <summary>IMAP in implicit TLS.</summary>
    public int ImapsPort { get; private set; }

    /// <summary>POP3 in plain text, STLS offered.</summary>
    public int Pop3Port { get; private set; }

    /// <summary>POP3 in implicit TLS.</summary>
    public int Pop3sPort { get; private set; }

    /// <summary>The only user; its mail is the maildir <see cref="Messages"/> reads.</summary>
    public string UserName { get; } = "bounces";

    /// <summary>Random for each instance.</summary>
    public string Password { get; }

    /// <summary>The self-signed certificate Dovecot presents (public part); see <see cref="ValidateServerCertificate"/>.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The temporary folder holding everything; deleted on dispose.</summary>
    public string Folder => _folder;

    /// <summary>Dovecot's log: logins, errors, what each session did.</summary>
    public string LogPath => Path.Combine(_folder, "dovecot.log");

    public bool IsRunning => Volatile.Read(ref _process) is { HasExited: false };

    /// <summary>How long the last start took, from launching Dovecot to both greetings.</summary>
    public TimeSpan StartupTime { get; private set; }

    private string ConfigPath => Path.Combine(_folder, "dovecot.conf");

    /// <summary>
    /// Starts Dovecot in a fresh folder on free ports; returns once IMAP and POP3 greet and the TLS ports
    /// accept. Fails with Dovecot's own words if it cannot start, and at once if it is not installed.
    /// </summary>
    public static async Task<TestDovecot> StartAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: the mailbox tests need Debian's dovecot-imapd and dovecot-pop3d (.ci/run installs them).");
        }

        var dovecot = new TestDovecot(Directory.CreateTempSubdirectory("dovecot-").FullName);
        try
        {
            // Free ports are found by binding and letting go, so a parallel test may take one first: try others.
            for (var attempt = 1; ; attempt++)
            {
                var ports = LoopbackPorts.Free(4);
                (dovecot.ImapPort, dovecot.ImapsPort, dovecot.Pop3Port, dovecot.Pop3sPort) = (ports[0], ports[1], ports[2], ports[3]);
                DovecotFiles.WriteConfiguration(dovecot._folder, dovecot._accounts, dovecot.ImapPort, dovecot.ImapsPort, dovecot.Pop3Port, dovecot.Pop3sPort);
                try
                {
                    await dovecot.StartCoreAsync();
                    return dovecot;
                }
                catch (PortTakenException) when (attempt < 5)
                {
                }
            }
        }
        catch
        {
            await dovecot.DisposeAsync();
            throw;
        }
    }

    /// <summary>"Mailbox down": kills Dovecot and every process it started; the ports refuse connections. Mail stays.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StopCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>"Mailbox back": starts Dovecot again on the same ports with the same mail (stopping it first if running).</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await StopCoreAsync();
            await StartCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Delivers a raw message (RFC 5322 text) into <paramref name="folder"/>, creating the folder if missing; returns the maildir id.</summary>
    public Task<string> DropAsync(string rawMessage, string folder = "INBOX") => DropAsync(Encoding.UTF8.GetBytes(rawMessage), folder);

    /// <inheritdoc cref="DropAsync(string, string)"/>
    public Task<string> DropAsync(byte[] rawMessage, string folder = "INBOX") => _maildir.DropAsync(rawMessage, folder);

    /// <summary>The messages on disk in <paramref name="folder"/> (new/ and cur/, expunged ones gone); empty if the folder does not exist.</summary>
    public IReadOnlyList<MaildirMessage> Messages(string folder = "INBOX") => _maildir.Messages(folder);

    public int Count(string folder = "INBOX") => Messages(folder).Count;

    public bool FolderExists(string folder) => _maildir.Exists(folder);

    /// <summary>
    /// A MailKit <c>ServerCertificateValidationCallback</c> that trusts exactly <see cref="Certificate"/>,
    /// whatever the chain says (it is self-signed).
    /// </summary>
    public bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData);

    /// <summary>The end of Dovecot's log (for a failing test's message).</summary>
    public string LogTail(int lines = 30) =>
        File.Exists(LogPath) ? string.Join('\n', File.ReadLines(LogPath).TakeLast(lines)) : "(no log yet)";

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            await StopCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }

        Certificate.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A process killed a moment ago may still be closing a file; a leftover temp folder is harmless.
        }
    }

    private async Task StartCoreAsync()
    {
        // Runtime state (pid file, sockets) of a killed Dovecot is stale; Dovecot makes it afresh.
        var runtime = Path.Combine(_folder, "run");
        if (Directory.Exists(runtime))
        {
            Directory.Delete(runtime, recursive: true);
        }
        var logStart = File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0;
        lock (_output)
        {
            _output.Clear();
        }

        var clock = Stopwatch.StartNew();
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(ExecutablePath, ["-F", "-c", ConfigPath])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.OutputDataReceived += OnOutput;
        process.ErrorDataReceived += OnOutput;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Volatile.Write(ref _process, process);

        while (!await ReadyAsync())
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                Volatile.Write(ref _process, null);
                var why = Diagnostics(logStart);
                var exitCode = process.ExitCode;
                process.Dispose();
                if (why.Contains("Address already in use", StringComparison.Ordinal))
                {
                    throw new PortTakenException($"A port of the test Dovecot is taken:{why}");
                }
                throw new InvalidOperationException($"Dovecot exited with code {exitCode} while starting:{why}");
            }
            if (clock.Elapsed > StartTimeout)
            {
                var why = Diagnostics(logStart);
                await StopCoreAsync();
                throw new TimeoutException($"Dovecot did not greet on IMAP {ImapPort} and POP3 {Pop3Port} within {StartTimeout.TotalSeconds:0} s:{why}");
            }
            await Task.Delay(10);
        }
        StartupTime = clock.Elapsed;
    }

    private async Task StopCoreAsync()
    {
        var process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }
        try
        {
            // The master forks every login and mail process itself, so its tree is all of Dovecot.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) when (process.HasExited)
        {
        }
        await process.WaitForExitAsync().WaitAsync(StopTimeout);
        process.Dispose();
        // A killed process's listening socket closes a moment after it dies.
        await Poll.UntilAsync(async () => !await AnyPortAcceptsAsync(), $"the killed Dovecot's ports {ImapPort}, {Pop3Port} refuse connections", StopTimeout);
    }

    // The master listens before its login processes can answer, so a plain port counts once it greets.
    private async Task<bool> ReadyAsync() =>
        await LoopbackPorts.ProbeAsync(ImapPort, "* OK") && await LoopbackPorts.ProbeAsync(Pop3Port, "+OK") && await LoopbackPorts.ProbeAsync(ImapsPort, null) && await LoopbackPorts.ProbeAsync(Pop3sPort, null);

    private async Task<bool> AnyPortAcceptsAsync()
    {
        foreach (var port in new[] { ImapPort, ImapsPort, Pop3Port, Pop3sPort })
        {
            if (await LoopbackPorts.ProbeAsync(port, null))
            {
                return true;
            }
        }
        return false;
    }

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_output)
            {
                _output.AppendLine(e.Data);
            }
        }
    }

    private string Diagnostics(long logStart)
    {
        string output;
        lock (_output)
        {
            output = _output.ToString().Trim();
        }
        var log = "";
        if (File.Exists(LogPath))
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(Math.Min(logStart, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            log = string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(30)).Trim();
        }
        return $"\n--- dovecot output ---\n{output}\n--- {LogPath} ---\n{log}";
    }

    private sealed class PortTakenException(string message) : Exception(message);
}
