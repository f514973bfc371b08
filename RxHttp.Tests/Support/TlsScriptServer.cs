using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace RxHttp.Tests.Support;

/// <summary>An SslStream that shows its inner stream, so a script can cork it.</summary>
internal sealed class CorkedSslStream(Stream inner) : SslStream(inner)
{
    public Stream Inner => InnerStream;
}

/// <summary>Passes writes through, or while corked collects them and sends them in one write when uncorked.</summary>
internal sealed class CorkStream(Stream inner) : Stream
{
    private readonly MemoryStream _held = new();
    public bool Corked { get; set; }

    public async Task UncorkAsync()
    {
        Corked = false;
        await inner.WriteAsync(_held.ToArray());
        _held.SetLength(0);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!Corked) return inner.WriteAsync(buffer, cancellationToken);
        _held.Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A TLS server running a script per connection (told whether it is the first), over its SslStream.</summary>
internal sealed class TlsScriptServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Task> _tasks = new();
    private int _connections;

    public TlsScriptServer(X509Certificate2 certificate, Func<SslStream, bool, Task> script)
    {
        _listener.Start();
        _tasks.Add(Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_cts.Token);
                    var first = Interlocked.Increment(ref _connections) == 1;
                    lock (_tasks) _tasks.Add(Task.Run(async () =>
                    {
                        await using var ssl = new CorkedSslStream(new CorkStream(new NetworkStream(socket, ownsSocket: true)));
                        try
                        {
                            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, _cts.Token);
                            await script(ssl, first);
                        }
                        catch
                        {
                            // The client closed the connection; the test's assertions tell.
                        }
                    }));
                }
            }
            catch
            {
                // Stopped.
            }
        }));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"https://127.0.0.1:{Port}/";
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Reads up to the end of a request head (a body is the script's to read); null on EOF.</summary>
    public static async Task<string?> ReadHeadAsync(Stream stream)
    {
        var seen = 0;
        var one = new byte[1];
        var head = new StringBuilder();
        while (seen < 4)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            head.Append((char)one[0]);
            seen = one[0] == (seen % 2 == 0 ? '\r' : '\n') ? seen + 1 : one[0] == '\r' ? 1 : 0;
        }
        return head.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _listener.Stop();
        Task[] all;
        lock (_tasks) all = _tasks.ToArray();
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(2000));
    }
}
