using System.Collections.Concurrent;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Runs one sender's asynchronous loop on a thread of its own: every continuation of the loop's
/// awaits is posted back to that thread, so the loop never moves to the thread pool and may block
/// in I/O (the SMTP conversation, SQLite) without taking a pool thread away from anyone.
/// </summary>
/// <remarks>
/// A message's path through a sender — build, hand to the server, record the answer — completes
/// synchronously end to end (SQLite and the SMTP transport do their I/O blocking; see
/// <see cref="SmtpTransport"/>), so a sender goes from one message to the next without a thread
/// switch. On the 2-core benchmark machine each switch (epoll thread, thread-pool wake-up, spinning
/// workers) cost more than the work it carried; docs/benchmarks.md has the figures. Awaits that do
/// wait (claims another sender holds, pauses, retries further off, other databases) come back here
/// through <see cref="Post"/>.
/// </remarks>
internal sealed class SenderThread : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = new();

    private SenderThread()
    {
    }

    /// <summary>Starts <paramref name="loop"/> on a new background thread named <paramref name="name"/>;
    /// the task completes (or fails) with it.</summary>
    public static Task RunAsync(Func<Task> loop, string name)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var context = new SenderThread();
            SetSynchronizationContext(context);
            Task task;
            try
            {
                task = loop();
            }
            catch (Exception ex)
            {
                task = Task.FromException(ex);
            }
            task.ContinueWith(
                static (_, state) => ((SenderThread)state!)._queue.CompleteAdding(),
                context, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var (callback, state) in context._queue.GetConsumingEnumerable())
            {
                callback(state);
            }
            context._queue.Dispose();
            if (task.IsFaulted)
            {
                done.SetException(task.Exception!.InnerExceptions);
            }
            else if (task.IsCanceled)
            {
                done.SetCanceled();
            }
            else
            {
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        try
        {
            _queue.Add((d, state));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // The loop has finished; a late continuation (of something it started and no longer
            // awaits) runs on the thread pool instead.
            ThreadPool.UnsafeQueueUserWorkItem(s => d(s), state, preferLocal: false);
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("A sender thread runs only posted continuations.");

    public override SynchronizationContext CreateCopy() => this;
}
