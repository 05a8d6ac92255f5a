namespace Newsletter.Worker.Cli;

/// <summary>
/// Reports progress on the reporting thread, at once. (<see cref="Progress{T}"/> posts each report
/// to the thread pool, so lines could arrive after the command printed its summary, or after its
/// writer was gone.)
/// </summary>
internal sealed class ConsoleProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
