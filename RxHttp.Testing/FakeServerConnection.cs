using System.Reactive.Concurrency;
using System.Text;

namespace RxHttp.Testing;

/// <summary>
/// The scripted server's side of one connection: reads HTTP/1.1 requests from what the client writes (Content-Length
/// or chunked bodies, <c>Expect: 100-continue</c>, websocket upgrades), asks <see cref="FakeHttp"/> for the response and
/// sends it as bytes, each part at its virtual time on the clock of the request it answers.
/// </summary>
internal sealed class FakeServerConnection
{
    private readonly object _gate = new();
    private readonly FakeHttp _http;
    private readonly List<byte> _received = new();
    private readonly List<IDisposable> _timers = new();
    private FakeCall? _current;
    private bool _continued;
    private bool _closed;
    private bool _resetByServer; // the script cut the connection: its closing is not the client abandoning the call
    private IScheduler? _clock;

    public FakeServerConnection(FakeHttp http, ConnectionKey key)
    {
        _http = http;
        Key = key;
        Stream = new FakeStream(this);
    }

    public ConnectionKey Key { get; }
    public FakeStream Stream { get; }
    internal FakeWebSocketServer? WebSocket { get; private set; }

    /// <summary>
    /// The clock of the request this connection is receiving or answering: its own <see cref="RequestOptions.Scheduler"/>
    /// or its session's, as the client sent it; the connector's when the client named none.
    /// </summary>
    internal IScheduler Clock
    {
        get { lock (_gate) return _clock ?? _http.Connector.Scheduler; }
    }

    public void OnClientBytes(ReadOnlySpan<byte> data)
    {
        if (WebSocket is { } ws)
        {
            ws.OnClientBytes(data);
            return;
        }
        FakeCall? call;
        lock (_gate)
        {
            // A pooled connection carries requests on different clocks in turn: each one's is taken as its first bytes
            // arrive, in the client's send, since a body held for 100-continue may come later from a timer.
            if (_received.Count == 0 && StreamConnector.RequestScheduler is { } clock) _clock = clock;
            _received.AddRange(data);
            call = TryParseRequest();
        }
        if (call is not null) _http.Handle(this, call);
    }

    public void OnClientClosed()
    {
        List<IDisposable> timers;
        FakeCall? current;
        FakeCall? partial;
        lock (_gate)
        {
            _closed = true;
            timers = _timers.ToList();
            _timers.Clear();
            current = _resetByServer ? null : _current;
            // A request abandoned while it was being sent (an upload cancelled or timed out, a body held for
            // 100-continue): it never reached a script, but the client did make it, and a test asserts its abort.
            partial = WebSocket is null ? ParsePartialRequest() : null;
        }
        foreach (var t in timers) t.Dispose();
        if (current is { Completed: false }) current.Aborted = true;
        if (partial is not null)
        {
            partial.Aborted = true;
            _http.Record(partial);
        }
        WebSocket?.OnClientClosed();
    }

    /// <summary>Sends <paramref name="response"/> to <paramref name="call"/>, each part at its virtual time.</summary>
    public void Serve(FakeCall call, FakeResponse response, IScheduler scheduler)
    {
        lock (_gate) _current = call;
        switch (response.Fault)
        {
            case FakeFault.Stall:
                return;
            case FakeFault.Reset:
                ResetByServer();
                return;
        }
        var steps = new List<(TimeSpan At, Action Send)>
        {
            (response.HeadDelay, () => Stream.Deliver(response.RenderHead())),
        };
        var bodiless = call.Method.Equals("HEAD", StringComparison.OrdinalIgnoreCase) || response.StatusCode is < 200 or 204 or 304;
        if (!bodiless)
        {
            if (!response.Chunked) steps.Add((response.HeadDelay, () => Stream.Deliver(response.Body)));
            else
            {
                if (response.Body.Length > 0) steps.Add((response.HeadDelay, () => Stream.Deliver(ChunkOf(response.Body))));
                foreach (var (at, data) in response.Slices) steps.Add((at, () => Stream.Deliver(ChunkOf(data))));
                if (response.ResetsMidBody)
                {
                    steps.Add((LastAt(steps), ResetByServer));
                    Run(steps, scheduler);
                    return;
                }
                if (response.Endless)
                {
                    Run(steps, scheduler);
                    return;
                }
                steps.Add((LastAt(steps), () => Stream.Deliver("0\r\n\r\n"u8.ToArray())));
            }
        }
        // Marked complete in the action that sends the last bytes, before they go: the client reads them inline and may
        // close the connection there (Connection: close), which must not count as abandoning a call that was all sent.
        var (lastAt, sendLast) = steps[^1];
        steps[^1] = (lastAt, () =>
        {
            call.Completed = true;
            sendLast();
            if (response.ClosesConnection) Stream.DeliverEof();
        });
        Run(steps, scheduler);
    }

    /// <summary>Hands the connection to a scripted websocket session after the 101 head.</summary>
    public void Upgrade(FakeCall call, FakeWebSocketScript script, IScheduler scheduler)
    {
        lock (_gate) _current = call;
        WebSocket = new FakeWebSocketServer(this, script, scheduler, call);
        WebSocket.Start();
    }

    internal void AddTimer(IDisposable timer)
    {
        bool closed;
        lock (_gate)
        {
            closed = _closed;
            if (!closed) _timers.Add(timer);
        }
        if (closed) timer.Dispose();
    }

    private void ResetByServer()
    {
        lock (_gate) _resetByServer = true;
        Stream.DeliverFault(FakeStream.Reset());
    }

    private static TimeSpan LastAt(List<(TimeSpan At, Action Send)> steps) => steps[^1].At;

    // Parts due at once are sent on the write that completed the request (a response with no delays is read without
    // the scheduler); the rest are scheduled relative to the request's arrival.
    private void Run(List<(TimeSpan At, Action Send)> steps, IScheduler scheduler)
    {
        var start = scheduler.Now;
        foreach (var (at, send) in steps)
        {
            if (at <= TimeSpan.Zero)
            {
                send();
                continue;
            }
            AddTimer(scheduler.Schedule(start + at, send));
        }
    }

    private static byte[] ChunkOf(byte[] data)
    {
        var head = Encoding.ASCII.GetBytes($"{data.Length:x}\r\n");
        var chunk = new byte[head.Length + data.Length + 2];
        head.CopyTo(chunk, 0);
        data.CopyTo(chunk, head.Length);
        chunk[^2] = (byte)'\r';
        chunk[^1] = (byte)'\n';
        return chunk;
    }

    // ---- request parsing (under _gate) ----

    private FakeCall? TryParseRequest() => ParseRequest(partial: false);

    // The head of a request that has not arrived in full, with the body so far (the whole chunks of a chunked one).
    private FakeCall? ParsePartialRequest() => _received.Count == 0 ? null : ParseRequest(partial: true);

    private FakeCall? ParseRequest(bool partial)
    {
        var headEnd = IndexOf(_received, "\r\n\r\n"u8);
        if (headEnd < 0) return null;
        var lines = Encoding.Latin1.GetString(_received.GetRange(0, headEnd).ToArray()).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3) throw new InvalidOperationException($"The fake server got a malformed request line: \"{lines[0]}\".");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        string? Get(string name) => headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        var bodyStart = headEnd + 4;
        byte[] body;
        int consumed;
        if (Get("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryDechunk(bodyStart, out body, out consumed) && !partial) return ContinueIfExpected(Get("Expect"), bodyStart);
        }
        else
        {
            var length = long.TryParse(Get("Content-Length"), out var l) ? (int)l : 0;
            if (_received.Count - bodyStart < length && !partial) return ContinueIfExpected(Get("Expect"), bodyStart);
            length = Math.Min(length, _received.Count - bodyStart);
            body = _received.GetRange(bodyStart, length).ToArray();
            consumed = bodyStart + length;
        }
        if (partial) consumed = _received.Count;
        _received.RemoveRange(0, consumed);
        _continued = false;
        var target = requestLine[1];
        var websocket = Get("Upgrade") is { } up && up.Equals("websocket", StringComparison.OrdinalIgnoreCase);
        var scheme = websocket ? (Key.IsSsl ? "wss" : "ws") : (Key.IsSsl ? "https" : "http");
        var url = target.Contains("://", StringComparison.Ordinal) ? target : $"{scheme}://{Get("Host") ?? Key.Host}{target}";
        return new FakeCall(requestLine[0], url, headers, body, Clock.Now);
    }

    private FakeCall? ContinueIfExpected(string? expect, int bodyStart)
    {
        if (!_continued && expect is not null && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase) && _received.Count == bodyStart)
        {
            _continued = true;
            Stream.Deliver("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
        }
        return null;
    }

    private bool TryDechunk(int start, out byte[] body, out int consumed)
    {
        var output = new List<byte>();
        var pos = start;
        body = Array.Empty<byte>();
        consumed = 0;
        while (true)
        {
            body = output.ToArray(); // what arrived, for a request abandoned mid-body
            var lineEnd = IndexOf(_received, "\r\n"u8, pos);
            if (lineEnd < 0) return false;
            var sizeText = Encoding.ASCII.GetString(_received.GetRange(pos, lineEnd - pos).ToArray()).Split(';')[0].Trim();
            var size = Convert.ToInt32(sizeText, 16);
            pos = lineEnd + 2;
            if (size == 0)
            {
                // Trailers, if any, end with an empty line.
                var end = IndexOf(_received, "\r\n"u8, pos);
                while (end >= 0 && end != pos)
                {
                    pos = end + 2;
                    end = IndexOf(_received, "\r\n"u8, pos);
                }
                if (end < 0) return false;
                body = output.ToArray();
                consumed = end + 2;
                return true;
            }
            if (_received.Count < pos + size + 2) return false;
            output.AddRange(_received.GetRange(pos, size));
            pos += size + 2;
        }
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> needle, int from = 0)
    {
        for (var i = from; i <= data.Count - needle.Length; i++)
        {
            var ok = true;
            for (var j = 0; j < needle.Length && ok; j++) ok = data[i + j] == needle[j];
            if (ok) return i;
        }
        return -1;
    }
}
