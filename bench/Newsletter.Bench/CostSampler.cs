using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Newsletter.Bench;

/// <summary>
/// The send process's CPU per message in the first and in the last tenth of a send, from the
/// service's own <c>newsletter.messages</c> counter and the process's CPU time sampled every 500 ms:
/// whether a message costs more as the send, and the database, grow.
/// </summary>
internal sealed class CostSampler : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(long Messages, TimeSpan Cpu)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _messages;

    public CostSampler()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Newsletter" && instrument.Name == "newsletter.messages")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _messages, value));
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(500, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    private void Sample()
    {
        lock (_samples)
        {
            _samples.Add((Interlocked.Read(ref _messages), Process.GetCurrentProcess().TotalProcessorTime));
        }
    }

    /// <summary>CPU µs per message between the first sample with messages and the one past a tenth,
    /// and between the one past nine tenths and the end.</summary>
    public (double FirstTenth, double LastTenth) Tenths()
    {
        Sample();
        lock (_samples)
        {
            var total = _samples[^1].Messages;
            var start = _samples.FindLast(s => s.Messages == 0);
            var tenth = _samples.Find(s => s.Messages >= total / 10);
            var nineTenths = _samples.Find(s => s.Messages >= total * 9 / 10);
            var end = _samples[^1];
            static double PerMessage((long Messages, TimeSpan Cpu) from, (long Messages, TimeSpan Cpu) to) =>
                to.Messages > from.Messages ? (to.Cpu - from.Cpu).TotalMicroseconds / (to.Messages - from.Messages) : 0;
            return (PerMessage(start, tenth), PerMessage(nineTenths, end));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait();
        _listener.Dispose();
        _stop.Dispose();
    }
}
