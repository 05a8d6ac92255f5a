using System.Diagnostics;
using System.Text;
using Newsletter.Tests.Infrastructure.Mailbox;
using Npgsql;

namespace Newsletter.Tests.Infrastructure.Databases;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package; .ci/run installs it) for the whole test run:
/// <c>initdb</c> into a fresh temporary folder, <c>postgres</c> on a free 127.0.0.1 port, stopped when the
/// test process ends. Each test gets its own database (<see cref="CreateDatabase"/>). As root the server
/// runs as the package's postgres user (setpriv), since PostgreSQL refuses to run as root.
/// </summary>
/// <remarks>Durability is switched off (fsync, synchronous_commit): the tests kill the service's processes,
/// never this server, and a crash-safe server is PostgreSQL's business, not ours.</remarks>
public sealed class TestPostgres
{
    private const string User = "newsletter";
    private static readonly Lazy<TestPostgres> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _log = new();

    private TestPostgres(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A login that needs <see cref="Password"/>, for the tests of a wrong one.</summary>
    public const string PasswordUser = "guarded";

    public const string Password = "the-right-password";

    /// <summary>The server every test shares; started by the first test that asks.</summary>
    public static TestPostgres Instance => Shared.Value;

    /// <summary>The server's own maintenance database, for creating and dropping the tests' ones.</summary>
    private string AdminConnectionString => ConnectionString("postgres");

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Include Error Detail=true;Maximum Pool Size=60";

    /// <summary>A new, empty database; returns its connection string.</summary>
    public string CreateDatabase()
    {
        var name = $"t_{Guid.NewGuid():N}";
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabase"/>, closing whatever is still connected.</summary>
    public void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    private static TestPostgres Start()
    {
        var bin = BinaryFolder() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): install Debian's postgresql package (.ci/run does).");
        var folder = Path.Combine(Path.GetTempPath(), "newsletter-tests", $"postgres-{Guid.NewGuid():N}");
        var data = Path.Combine(folder, "data");
        Directory.CreateDirectory(folder);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            Run("chown", ["postgres:", folder], asRoot: false);
        }
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"], asRoot);

        // The tests' own user needs no password; every other login does (see PasswordUser).
        File.WriteAllText(Path.Combine(data, "pg_hba.conf"), $"""
            local all all trust
            host all {User} 127.0.0.1/32 trust
            host all all 127.0.0.1/32 scram-sha-256
            """);
        var port = LoopbackPorts.Free(1)[0];
        var process = Process.Start(Command(Path.Combine(bin, "postgres"), [
            "-D", data, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", folder,
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=256MB"], asRoot))!;
        var server = new TestPostgres(process, folder, port);
        process.OutputDataReceived += (_, e) => server.Logged(e.Data);
        process.ErrorDataReceived += (_, e) => server.Logged(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        server.WaitUntilReady();
        using (var connection = new NpgsqlConnection(server.AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE ROLE {PasswordUser} LOGIN PASSWORD '{Password}'", connection);
            command.ExecuteNonQuery();
        }
        return server;
    }

    private void Logged(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private void WaitUntilReady()
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var connection = new NpgsqlConnection(AdminConnectionString);
                connection.Open();
                return;
            }
            catch (NpgsqlException) when (waited.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
            catch (NpgsqlException e)
            {
                string log;
                lock (_log)
                {
                    log = _log.ToString();
                }
                throw new InvalidOperationException($"PostgreSQL did not start on port {Port}: {e.Message}\n{log}", e);
            }
        }
    }

    /// <summary>A fast shutdown (SIGINT), then the folder goes.</summary>
    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                Run("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], asRoot: false);
                if (!_process.WaitForExit(10_000))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Leaving a temporary folder behind is not worth failing the run.
        }
    }

    private static string? BinaryFolder()
    {
        if (!Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }
        // The newest installed major version.
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static ProcessStartInfo Command(string file, string[] args, bool asRoot)
    {
        // setpriv runs the program in its own place (no child process), so the id and signals are the server's.
        var start = new ProcessStartInfo(asRoot ? "setpriv" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asRoot)
        {
            foreach (var a in (string[])["--reuid=postgres", "--regid=postgres", "--init-groups", "--", file])
            {
                start.ArgumentList.Add(a);
            }
        }
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        return start;
    }

    private static void Run(string file, string[] args, bool asRoot)
    {
        using var process = Process.Start(Command(file, args, asRoot))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({process.ExitCode}): {error}{output.Result}");
        }
    }
}
