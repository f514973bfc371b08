using System.Net.Sockets;

namespace RxHttp.Testing;

/// <summary>
/// The client's end of an in-memory connection. Writes go straight to the scripted server, which answers on the
/// same call or later on the scheduler; a read returns buffered bytes at once, or waits for the server's next delivery.
/// A waiting read completes inside the scheduler action that delivers (with no synchronization context, so the
/// library's continuations run inline): a virtual-time test sees every effect of <c>AdvanceBy</c> when it returns.
/// </summary>
internal sealed class FakeStream : Stream
{
    private readonly object _gate = new();
    private readonly Queue<byte[]> _inbound = new();
    private readonly FakeServerConnection _server;
    private int _offset; // into the head of _inbound
    private bool _eof;
    private Exception? _fault;
    private bool _disposed;
    private TaskCompletionSource<int>? _pending;
    private Memory<byte> _pendingBuffer;
    private CancellationTokenRegistration _pendingCancel;

    public FakeStream(FakeServerConnection server) => _server = server;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_disposed) return ValueTask.FromException<int>(new ObjectDisposedException(nameof(FakeStream)));
            if (_pending is not null) return ValueTask.FromException<int>(new InvalidOperationException("Only one read at a time."));
            if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
            if (TryTake(buffer.Span, out var n)) return new ValueTask<int>(n);
            if (_fault is { } f) return ValueTask.FromException<int>(f);
            if (_eof) return new ValueTask<int>(0);
            var tcs = _pending = new TaskCompletionSource<int>();
            _pendingBuffer = buffer;
            if (cancellationToken.CanBeCanceled)
                _pendingCancel = cancellationToken.UnsafeRegister(static (s, ct) => ((FakeStream)s!).CancelPending(ct), this);
            return new ValueTask<int>(tcs.Task);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
            if (_disposed) throw new ObjectDisposedException(nameof(FakeStream));
        if (_fault is { } f) throw new IOException(f.Message, f.InnerException);
        _server.OnClientBytes(buffer);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>The server sends <paramref name="data"/>.</summary>
    public void Deliver(byte[] data)
    {
        if (data.Length == 0) return;
        lock (_gate)
        {
            if (_disposed || _eof || _fault is not null) return;
            _inbound.Enqueue(data);
        }
        WakeReader();
    }

    /// <summary>The server closes its side: reads return 0 once the buffered bytes are read.</summary>
    public void DeliverEof()
    {
        lock (_gate) _eof = true;
        WakeReader();
    }

    /// <summary>The connection fails as a socket's would: reads and writes throw <paramref name="error"/>.</summary>
    public void DeliverFault(Exception error)
    {
        lock (_gate)
        {
            if (_fault is not null) return;
            _fault = error;
        }
        WakeReader();
    }

    /// <summary>A reset as the runtime reports it: an IOException around SocketException(ConnectionReset).</summary>
    public static Exception Reset() =>
        new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset));

    private bool TryTake(Span<byte> destination, out int n)
    {
        n = 0;
        while (n < destination.Length && _inbound.TryPeek(out var head))
        {
            var k = Math.Min(destination.Length - n, head.Length - _offset);
            head.AsSpan(_offset, k).CopyTo(destination[n..]);
            n += k;
            _offset += k;
            if (_offset == head.Length)
            {
                _inbound.Dequeue();
                _offset = 0;
            }
        }
        return n > 0;
    }

    private void WakeReader()
    {
        TaskCompletionSource<int>? tcs;
        int n = 0;
        Exception? error = null;
        lock (_gate)
        {
            tcs = _pending;
            if (tcs is null) return;
            if (_disposed) error = new ObjectDisposedException(nameof(FakeStream));
            else if (!TryTake(_pendingBuffer.Span, out n))
            {
                if (_fault is { } f) error = f;
                else if (!_eof) return;
            }
            _pending = null;
            _pendingBuffer = default;
        }
        _pendingCancel.Dispose();
        Inline.Run(() =>
        {
            if (error is not null) tcs.TrySetException(error);
            else tcs.TrySetResult(n);
        });
    }

    private void CancelPending(CancellationToken ct)
    {
        TaskCompletionSource<int>? tcs;
        lock (_gate)
        {
            tcs = _pending;
            _pending = null;
            _pendingBuffer = default;
        }
        if (tcs is not null) Inline.Run(() => tcs.TrySetCanceled(ct));
    }

    protected override void Dispose(bool disposing)
    {
        bool first;
        lock (_gate)
        {
            first = !_disposed;
            _disposed = true;
        }
        if (!first) return;
        WakeReader();
        _server.OnClientClosed();
        base.Dispose(disposing);
    }
}
