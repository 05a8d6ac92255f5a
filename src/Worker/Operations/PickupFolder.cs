namespace Newsletter.Worker.Operations;

/// <summary>Whether the pickup folder can take a message: created if missing, a file written and removed.</summary>
internal static class PickupFolder
{
    /// <summary>Null when writable; otherwise what stands in the way, in one line.</summary>
    public static string? Problem(string directory)
    {
        var probe = Path.Combine(directory, $".probe-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot write to {directory}: {ex.Message}";
        }
    }
}
