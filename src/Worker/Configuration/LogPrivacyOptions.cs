using System.Globalization;

namespace Newsletter.Worker.Configuration;

/// <summary>
/// What log lines may say about people. Logs are copied, shipped and kept where erasure cannot reach,
/// so a reader (or an editor) is named by id; <c>Logging:IncludeAddresses=true</c> adds the address, for debugging.
/// </summary>
public sealed class LogPrivacyOptions
{
    public const string Section = "Logging";

    public bool IncludeAddresses { get; set; }

    /// <summary>How a log line names a person: their id, and their address after it only when asked for.</summary>
    public string Name(int id, string address) =>
        IncludeAddresses ? $"{id} <{address}>" : id.ToString(CultureInfo.InvariantCulture);
}
