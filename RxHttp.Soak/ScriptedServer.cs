using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RxHttp.Soak;

/// <summary>
/// A raw HTTP/1.1 server on 127.0.0.1 whose answer is chosen by the request path, for responses no real server
/// sends: slow, stalled, truncated, reset, flooded, bombs. Keep-alive unless the script closes. It counts its open
/// connections so a driver can wait until every client socket has been closed.
/// </summary>
public sealed class ScriptedServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, NetworkStream, Task<bool>> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _open;

    /// <param name="answer">Writes the answer for a path to the stream; returns false to close the connection after it.</param>
    public ScriptedServer(Func<string, NetworkStream, Task<bool>> answer)
    {
        _answer = answer;
        _listener.Start(1024);
        _accepting = AcceptLoop();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    /// <summary>Server-side connections not yet closed.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref _open);
            _ = Serve(socket);
        }
    }

    // Every exception ends here: a client that hangs up mid-answer is the normal case for this server.
    private async Task Serve(Socket socket)
    {
        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var buffer = new byte[8192];
            var filled = 0;
            while (true)
            {
                var end = -1;
                while ((end = IndexOfHeadEnd(buffer, filled)) < 0)
                {
                    if (filled == buffer.Length) return;
                    var n = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                    if (n == 0) return;
                    filled += n;
                }
                var line = Encoding.ASCII.GetString(buffer, 0, Array.IndexOf(buffer, (byte)'\r'));
                var path = line.Split(' ') is { Length: >= 2 } parts ? parts[1] : "/";
                Buffer.BlockCopy(buffer, end, buffer, 0, filled - end);
                filled -= end;
                if (!await _answer(path, stream)) break;
            }
            // Let the client see a clean end rather than a reset of unread bytes.
            socket.Shutdown(SocketShutdown.Send);
            var drain = new byte[1024];
            while (await stream.ReadAsync(drain, _stop.Token) > 0) { }
        }
        catch (Exception)
        {
            // The client went away or the server stops.
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _open);
        }
    }

    private static int IndexOfHeadEnd(byte[] buffer, int length)
    {
        var i = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
        return i < 0 ? -1 : i + 4;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
