using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Editors;

/// <summary>How editors sign in to the workspace, and what the service emails them.</summary>
public sealed class EditorsOptions
{
    public const string Section = "Editors";

    /// <summary>How long a sign-in lasts without use (renewed while the editor works).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Wrong passwords in a row before the account is locked for <see cref="LockoutDuration"/>.</summary>
    [Range(3, 100)]
    public int LockoutFailures { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sign-in attempts one IP address may make per minute, whatever the account.</summary>
    [Range(1, 1000)]
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>A new password's least length.</summary>
    [Range(8, 128)]
    public int MinimumPasswordLength { get; set; } = 12;

    /// <summary>How far ahead an edition's next slot with nothing queued is emailed to the editors; zero turns the warnings off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "62.00:00:00")]
    public TimeSpan EmptySlotWarning { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How often the running service looks for empty slots to warn about and finished publications to summarise.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan NotificationInterval { get; set; } = TimeSpan.FromMinutes(5);
}
