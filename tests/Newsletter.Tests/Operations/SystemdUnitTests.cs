using System.Diagnostics;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Operations;

/// <summary>deploy/newsletter.service as systemd itself reads it, and the hardening it promises.</summary>
public sealed class SystemdUnitTests
{
    private static string Unit => Path.Combine(TestData.RepositoryRoot, "deploy", "newsletter.service");

    [FactWhenProgramExists("systemd-analyze")]
    public async Task Systemd_analyze_verify_accepts_the_unit()
    {
        // verify insists that ExecStart exists and is executable: the unit is checked as installed,
        // with its binary path pointed at an executable stand-in in a temporary folder.
        var folder = Directory.CreateTempSubdirectory("newsletter-unit-");
        try
        {
            var binary = Path.Combine(folder.FullName, "newsletter");
            await File.WriteAllTextAsync(binary, "#!/bin/sh\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            }
            var unit = Path.Combine(folder.FullName, "newsletter.service");
            var text = await File.ReadAllTextAsync(Unit);
            Assert.Contains("ExecStart=/opt/newsletter/app/newsletter\n", text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(unit, text.Replace("/opt/newsletter/app/newsletter", binary, StringComparison.Ordinal));

            var (exit, output) = await RunAsync("systemd-analyze", "verify", unit);

            Assert.True(exit == 0 && output.Trim().Length == 0, $"systemd-analyze verify: exit {exit}\n{output}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [FactWhenProgramExists("systemd-analyze")]
    public async Task Systemd_analyze_verify_does_find_a_broken_unit()
    {
        // Guards the test above against passing whatever the unit says.
        var folder = Directory.CreateTempSubdirectory("newsletter-unit-");
        try
        {
            var unit = Path.Combine(folder.FullName, "newsletter.service");
            await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Unit)).Replace("Type=notify", "Type=sometimes", StringComparison.Ordinal));

            var (exit, output) = await RunAsync("systemd-analyze", "verify", unit);

            Assert.True(exit != 0 || output.Length > 0, "a unit with a bad Type and a missing binary passed verify");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("Type=notify")]
    [InlineData("DynamicUser=yes")]
    [InlineData("StateDirectory=newsletter")]
    [InlineData("ProtectSystem=strict")]
    [InlineData("NoNewPrivileges=yes")]
    [InlineData("Restart=on-failure")]
    [InlineData("RestartPreventExitStatus=2")]
    [InlineData("EnvironmentFile=/etc/newsletter/newsletter.env")]
    public async Task The_unit_runs_the_service_hardened_with_its_data_and_secrets_in_their_places(string line)
    {
        var lines = (await File.ReadAllLinesAsync(Unit)).Select(l => l.Trim());

        Assert.Contains(line, lines);
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}

/// <summary>A fact reported as skipped, with the reason, where a program it needs is not on PATH.</summary>
public sealed class FactWhenProgramExistsAttribute : FactAttribute
{
    public FactWhenProgramExistsAttribute(string program)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
        if (!found)
        {
            Skip = $"{program} is not installed here (on Debian: apt-get install systemd)";
        }
    }
}
