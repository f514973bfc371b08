using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RxHttp.Tests.Support;

/// <summary>
/// A raw TCP server that answers each request with scripted bytes, optionally one byte at a time (the
/// "dribble" mode), for malformed and edge-case responses no real server would send.
/// </summary>
public sealed class RawServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawConnection, Task> _script;
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Task> _tasks = new();
    private int _connections;

    public RawServer(Func<RawConnection, Task> script, IPAddress? address = null)
    {
        _script = script;
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _tasks.Add(AcceptLoop());
    }

    /// <summary>
    /// A server answering every request with a 200 of <paramref name="contentType"/> and <paramref name="body"/>, framed
    /// by Content-Length or as one chunk, written at once or one byte per send.
    /// </summary>
    public static RawServer Body(string contentType, byte[] body, bool chunked = false, bool dribble = false) => new(async c =>
    {
        while (await c.ReadRequestAsync() is not null)
        {
            var head = chunked
                ? $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n"
                : $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n\r\n";
            var tail = chunked ? "\r\n0\r\n\r\n" : "";
            await c.WriteAsync([.. Encoding.Latin1.GetBytes(head), .. body, .. Encoding.Latin1.GetBytes(tail)], dribble);
        }
    });

    /// <summary>A server answering every request on a connection with <paramref name="response"/>.</summary>
    public static RawServer Respond(string response, bool dribble = false, bool closeAfter = false, IPAddress? address = null) =>
        new(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync(response, dribble);
                if (closeAfter) break;
            }
        }, address);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url(string path = "/") => $"http://127.0.0.1:{Port}{path}";
    public int ConnectionCount => Volatile.Read(ref _connections);
    public TaskCompletionSource<bool> ClientClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public List<string> Requests { get; } = new();

    private async Task AcceptLoop()
    {
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_cts.Token);
                Interlocked.Increment(ref _connections);
                var conn = new RawConnection(socket, this);
                lock (_tasks) _tasks.Add(Task.Run(async () =>
                {
                    try { await _script(conn); }
                    catch { /* the client may vanish mid-script */ }
                    finally { socket.Dispose(); }
                }));
            }
        }
        catch { /* stopped */ }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _listener.Stop();
        Task[] all;
        lock (_tasks) all = _tasks.ToArray();
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(2000));
    }

    public sealed class RawConnection(Socket socket, RawServer server)
    {
        private readonly List<byte> _pending = new();
        public Socket Socket => socket;

        /// <summary>Reads one request head (and a Content-Length body); null on EOF.</summary>
        public async Task<string?> ReadRequestAsync()
        {
            var buf = new byte[8192];
            while (true)
            {
                var text = Encoding.Latin1.GetString(_pending.ToArray());
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var head = text[..(end + 4)];
                    var len = 0;
                    foreach (var line in head.Split("\r\n"))
                        if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) len = int.Parse(line[15..].Trim());
                    if (_pending.Count >= end + 4 + len)
                    {
                        var request = text[..(end + 4 + len)];
                        _pending.RemoveRange(0, end + 4 + len);
                        lock (server.Requests) server.Requests.Add(request);
                        return request;
                    }
                }
                var n = await socket.ReceiveAsync(buf, SocketFlags.None);
                if (n == 0)
                {
                    server.ClientClosed.TrySetResult(true);
                    return null;
                }
                _pending.AddRange(buf.AsSpan(0, n).ToArray());
            }
        }

        public async Task WriteAsync(string data, bool dribble = false) => await WriteAsync(Encoding.Latin1.GetBytes(data), dribble);

        public async Task WriteAsync(byte[] data, bool dribble = false)
        {
            if (!dribble)
            {
                await socket.SendAsync(data, SocketFlags.None);
                return;
            }
            for (var i = 0; i < data.Length; i++)
            {
                await socket.SendAsync(data.AsMemory(i, 1), SocketFlags.None);
                await Task.Yield();
            }
        }

        /// <summary>Waits until the client closes its side.</summary>
        public async Task WaitForCloseAsync()
        {
            var buf = new byte[1024];
            try
            {
                while (await socket.ReceiveAsync(buf, SocketFlags.None) > 0) { }
            }
            catch (SocketException) { }
            server.ClientClosed.TrySetResult(true);
        }
    }
}
