using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Atomic.Sidecar.Hosting;

/// <summary>
/// Ports on 127.0.0.1 held for an embedded sidecar of this process that listens later. A port only probed free can be
/// taken by another process before the listener binds it; a reserved one is bound and listening from the start (the
/// system picks it), so no one else can bind it, and the sidecar's listener takes that very socket over
/// (<see cref="Take"/>). A connection made to it before then waits in its backlog instead of being refused.
/// </summary>
public static class LoopbackPorts
{
    private static readonly ConcurrentDictionary<int, Socket> Reserved = new();

    /// <summary>A port on 127.0.0.1, held by this process until an embedded sidecar listens on it.</summary>
    public static int Reserve()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(512); // Kestrel's own backlog
            int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            Reserved[port] = socket;
            return port;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The socket reserved for <paramref name="endpoint"/>, now the caller's, or null when none is.</summary>
    internal static Socket? Take(EndPoint endpoint) =>
        endpoint is IPEndPoint { Port: > 0 } ip && ip.Address.Equals(IPAddress.Loopback) && Reserved.TryRemove(ip.Port, out Socket? socket)
            ? socket
            : null;
}
