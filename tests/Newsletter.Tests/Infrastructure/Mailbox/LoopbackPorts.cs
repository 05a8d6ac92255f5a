using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Newsletter.Tests.Infrastructure.Mailbox;

internal static class LoopbackPorts
{
    /// <summary>Ports free a moment ago; another process may still take one before it is used.</summary>
    public static int[] Free(int count)
    {
        // Held open together so the ports differ from one another.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>Whether 127.0.0.1:<paramref name="port"/> accepts a connection and, if given, greets with <paramref name="greeting"/> within a second.</summary>
    public static async Task<bool> ProbeAsync(int port, string? greeting)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            if (greeting is null)
            {
                return true;
            }
            var buffer = new byte[512];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith(greeting, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
