using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Scheduling;

public sealed class SchedulingOptions
{
    public const string Section = "Scheduling";

    /// <summary>Run the edition schedules in the service. Off where another instance runs them (and in tests).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A slot missed while the service was down is still published on start when it is
    /// at most this old; older ones are recorded as missed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "31.00:00:00")]
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromHours(6);
}
