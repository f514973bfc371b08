using System.Net.Security;
using System.Threading.Tasks.Sources;

namespace RxHttp.Transport;

/// <summary>
/// Under an <see cref="SslStream"/>: a read of an SslStream completes at once when it has decrypted bytes or a whole
/// record buffered (or the peer's close_notify), and otherwise waits on a zero-byte read of its inner stream, this
/// one, before reading the socket. The connection starts each TLS response's read at lease time to tell whether the
/// SslStream holds bytes no request asked for (Connection.TryProbeTls); that zero-byte read is parked here instead
/// of going to the socket engine, and the connection lets it go (<see cref="Unpark"/>) when it reads the response.
/// A parked read costs no syscall, where the SslStream's own zero-byte read of the socket costs one per response.
/// </summary>
internal sealed partial class LowWaterStream : IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _parked;
    private bool _parkNext;
    private int _isParked; // 1 while the SslStream waits on the parked read; whoever takes it to 0 completes it

    /// <summary>Parks the next zero-byte read until the returned scope ends: wrap the SslStream read that may come to it.</summary>
    public ParkScope ParkingNext()
    {
        _parkNext = true;
        return new ParkScope(this);
    }

    /// <summary>Ends <see cref="ParkingNext"/>'s window; a read parked within it stays parked.</summary>
    public readonly struct ParkScope(LowWaterStream stream) : IDisposable
    {
        public void Dispose() => stream._parkNext = false;
    }

    private ValueTask<int> Park()
    {
        _parkNext = false;
        _parked.Reset();
        Volatile.Write(ref _isParked, 1);
        return new ValueTask<int>(this, _parked.Version);
    }

    /// <summary>
    /// Lets the parked read go as if the socket had bytes: the SslStream goes on to read them, on this thread (the
    /// continuation is not dispatched), and finds them there when the response came, or waits in the socket engine.
    /// </summary>
    public void Unpark()
    {
        if (Interlocked.CompareExchange(ref _isParked, 0, 1) == 1) _parked.SetResult(0);
    }

    /// <summary>Fails a parked read: the connection closed, and the SslStream's read ends with it.</summary>
    public void FailParked()
    {
        if (Interlocked.CompareExchange(ref _isParked, 0, 1) == 1) _parked.SetException(new ObjectDisposedException(nameof(LowWaterStream)));
    }

    int IValueTaskSource<int>.GetResult(short token) => _parked.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _parked.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _parked.OnCompleted(continuation, state, token, flags);
}
