using System.Net.Sockets;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// How this connection waits for a response, chosen per lease from the pool's state: a read started before the
/// request is written (read-ahead), polling the socket for a lone request, or inline socket completions. The
/// strategies themselves are in Transport/ (<see cref="ReadAhead"/>, <see cref="ResponsePolling"/>,
/// <see cref="InlineCompletions"/>); what they need from the pool is decided here.
/// </summary>
public sealed partial class Connection
{
    // ---- read-ahead ----

    // The next response's read, started when the exchange leased this idle connection (TryStartReadAhead) and
    // awaited by the first FillAsync. In flight until that await ends: the buffer may not go back to the pool.
    private ReadAhead _readAhead;

    /// <summary>Plain sockets only: their pending read needs no awaiting to be safe to drop when the connection closes.</summary>
    internal bool CanReadAhead => Socket is not null && Stream is NetworkStream && BufferedCount == 0;

    /// <summary>
    /// Starts reading the response before the request is written (see <see cref="ReadAhead"/>). Under concurrency
    /// this replaces a Poll syscall per request (see BaseConnector.TryLeaseIdle). False: stale.
    /// </summary>
    internal bool TryStartReadAhead()
    {
        System.Diagnostics.Debug.Assert(!_readAhead.Pending, "a read-ahead started twice");
        _start = _end = 0;
        return _readAhead.TryStart(Stream, _buffer.AsMemory());
    }

    // ---- the TLS probe ----

    /// <summary>The socket's stream under this connection's SslStream, which can park the SslStream's reads; else null.</summary>
    internal LowWaterStream? TlsInner { get; set; }

    /// <summary>
    /// At the start of each exchange over TLS: bytes a server sent behind its last response can be inside the
    /// SslStream, where neither <see cref="BufferedCount"/> at release nor the pool's Poll of the idle socket sees
    /// them, and the request would read them as its response. Starting the response's read tells, as HttpClient's
    /// read-ahead does: it completes at once only when the SslStream holds bytes or the server's close, and otherwise
    /// waits on the socket, a wait parked in our inner stream (<see cref="LowWaterStream.ParkingNext"/>) until the
    /// response is read, so the check costs no syscall. False: stale, close it. Only leases
    /// that read their response through this connection are probed (requests and websocket handshakes, in
    /// Http1Exchange.AcquireAsync): a <c>Connect()</c> subscriber may read the stream itself.
    /// </summary>
    internal bool TryProbeTls()
    {
        if (TlsInner is not { } inner || _readAhead.Pending) return true;
        if (BufferedCount > 0) return false;
        _start = _end = 0;
        using (inner.ParkingNext()) return _readAhead.TryStart(Stream, _buffer.AsMemory());
    }

    // ---- inline completions (ConnectorOptions.UnsafeInlineCompletions) ----

    private bool _inline; // completions made inline by this connection

    /// <summary>
    /// Called at the start of each exchange: with the owner's <see cref="ConnectorOptions.UnsafeInlineCompletions"/>,
    /// makes this socket's completions inline while other requests of the pool are out, and dispatched otherwise.
    /// The runtime reads the setting at each socket event, so a change applies to the response about to come.
    /// A websocket handshake passes false for <paramref name="allowInline"/>.
    /// </summary>
    internal void ChooseCompletions(bool allowInline = true)
    {
        if (_owner is not { Options.UnsafeInlineCompletions: true } owner || Socket is not { } socket || InlineCompletions.ProcessWide) return;
        // Not !LeasedAlone: that is false for every lease but an idle one taken while the pool was empty (a new
        // connection, a hand-off), which is right for "do not poll" but would put lone requests inline here.
        var want = allowInline && owner.OthersOut;
        if (want != _inline && InlineCompletions.TrySet(socket, want)) _inline = want;
    }

    // A detached stream (a websocket) delivers to its own observers for its whole life: never on the I/O thread.
    private void DispatchCompletions()
    {
        if (_inline && Socket is { } socket) InlineCompletions.TrySet(socket, _inline = false);
    }

    // ---- waiting for a response by polling ----

    /// <summary>Set by the pool on each lease: true when no other lease of the pool was out (BaseConnector.TryLeaseIdle).</summary>
    internal bool LeasedAlone;

    // How long this connection's server has taken to answer lately (send to first byte), in Stopwatch ticks, as a
    // moving average; 0 until the first answer.
    private long _answerTicks;

    // Lone requests that did not poll since the last one that did (ResponsePolling.ShouldPoll).
    private int _unpolled;

    // True while PollForResponse may be receiving into the buffer: a Close() from another thread (the session closing)
    // must not return the buffer to the pool meanwhile.
    private volatile bool _polling;

    internal void NoteAnswerTime(long ticks) => _answerTicks = ResponsePolling.Average(_answerTicks, ticks);

    /// <summary>
    /// A lone request on a server that answers within the owner's poll window
    /// (<see cref="ConnectorOptions.ResponsePollWindow"/>, 64 µs by default: a server on loopback or the same rack)
    /// waits for the response by polling the socket on its own thread, up to that window (see
    /// <see cref="ResponsePolling"/>). Under concurrency, or when the server has been slower than the window, nobody
    /// polls: the CPU is needed elsewhere, or would be burnt for nothing. Returns the bytes read (0: EOF), or -1 when
    /// the read is left to the stream (TLS, once records arrived) or to the socket engine.
    /// </summary>
    private int PollForResponse(CancellationToken ct)
    {
        if (!LeasedAlone || _owner is null || Socket is not { } socket) return -1;
        var window = _owner.ResponsePollTicks;
        if (!ResponsePolling.ShouldPoll(window, _answerTicks, ref _unpolled)) return -1;
        EnterRead();
        _polling = true;
        try
        {
            var buffer = _buffer;
            if (buffer.Length == 0) return -1; // closed meanwhile: the read that follows fails as the socket is gone
            // TLS: the socket's bytes are records, which only the stream can read; the poll waits for them, and the
            // stream's read then finds them there (completing on this thread, without the socket engine's dispatch).
            var records = Stream is not NetworkStream;
            // Raised for as long as responses come within the window: they then wake nobody but this thread.
            LowWater?.Raise();
            switch (ResponsePolling.Wait(socket, LowWater, buffer.AsSpan(_end), records, window, ct, out var n))
            {
                case ResponsePolling.Outcome.Received:
                    _end += n;
                    _owner.CountPolledResponse();
                    return n;
                case ResponsePolling.Outcome.Readable:
                    _owner.CountPolledResponse();
                    return -1;
                default:
                    return -1;
            }
        }
        finally
        {
            _polling = false;
            ExitRead();
        }
    }
}
