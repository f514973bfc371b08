using System.Reactive.Concurrency;
using System.Security.Cryptography;
using System.Text;

namespace RxHttp.Testing;

/// <summary>What a scripted websocket server does, each step at a virtual time after the handshake.</summary>
public sealed class FakeWebSocketScript
{
    internal readonly List<(TimeSpan At, byte[] Frame, string Description)> Steps = new();

    /// <summary>The subprotocol the server accepts (null: none).</summary>
    public string? Protocol { get; private set; }

    /// <summary>
    /// True when the server leaves the client's PINGs unanswered (see <see cref="IgnorePings"/>); by default it answers
    /// each with a PONG at once, as RFC 6455 §5.5.2 requires of every endpoint.
    /// </summary>
    public bool IgnoresPings { get; private set; }

    /// <summary>
    /// The server never answers the client's PINGs: a peer that is gone without closing, which a client's
    /// <see cref="WsConnectOptions.Heartbeat"/> detects. Without it a heartbeat's PING gets its PONG, as from a live server.
    /// </summary>
    public FakeWebSocketScript IgnorePings()
    {
        IgnoresPings = true;
        return this;
    }

    /// <summary>Accepts the subprotocol <paramref name="protocol"/> in the handshake.</summary>
    public FakeWebSocketScript AcceptProtocol(string protocol)
    {
        Protocol = protocol;
        return this;
    }

    /// <summary>Sends a text message <paramref name="at"/> after the handshake.</summary>
    public FakeWebSocketScript SendText(TimeSpan at, string text) => Add(at, 0x1, Encoding.UTF8.GetBytes(text), "text " + text);

    /// <summary>Sends a binary message <paramref name="at"/> after the handshake.</summary>
    public FakeWebSocketScript SendBinary(TimeSpan at, byte[] data) => Add(at, 0x2, data, $"binary {data.Length} B");

    /// <summary>Sends a ping <paramref name="at"/> after the handshake (the client answers with a pong).</summary>
    public FakeWebSocketScript Ping(TimeSpan at, string payload = "") => Add(at, 0x9, Encoding.UTF8.GetBytes(payload), "ping");

    /// <summary>Starts the closing handshake <paramref name="at"/> after the handshake, with <paramref name="code"/>.</summary>
    public FakeWebSocketScript Close(TimeSpan at, int code = 1000, string reason = "")
    {
        var r = Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + r.Length];
        payload[0] = (byte)(code >> 8);
        payload[1] = (byte)code;
        r.CopyTo(payload, 2);
        return Add(at, 0x8, payload, $"close {code}");
    }

    /// <summary>Sends a frame with a reserved opcode <paramref name="at"/> after the handshake: a protocol violation.</summary>
    public FakeWebSocketScript ProtocolViolation(TimeSpan at) => Add(at, 0x3, Array.Empty<byte>(), "reserved opcode 3");

    private FakeWebSocketScript Add(TimeSpan at, int opcode, byte[] payload, string description)
    {
        if (at < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(at), at, "A step cannot come before the handshake.");
        if (Steps.Count > 0 && at < Steps[^1].At) throw new ArgumentException($"Steps run in order: {at} comes before {Steps[^1].At}.", nameof(at));
        if (opcode >= 0x8 && payload.Length > 125) throw new ArgumentException("A control frame's payload is at most 125 bytes.", nameof(payload));
        Steps.Add((at, Frame(opcode, payload), description));
        return this;
    }

    internal static byte[] Frame(int opcode, byte[] payload)
    {
        var head = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[head + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        if (head == 2) frame[1] = (byte)payload.Length;
        else if (head == 4)
        {
            frame[1] = 126;
            frame[2] = (byte)(payload.Length >> 8);
            frame[3] = (byte)payload.Length;
        }
        else
        {
            frame[1] = 127;
            for (var i = 0; i < 8; i++) frame[2 + i] = (byte)((long)payload.Length >> (56 - 8 * i));
        }
        payload.CopyTo(frame, head);
        return frame;
    }
}

/// <summary>A frame the client sent on a scripted websocket.</summary>
/// <param name="Opcode">1 text, 2 binary, 8 close, 9 ping, 10 pong (0: a continuation).</param>
/// <param name="Payload">The unmasked payload.</param>
/// <param name="Time">The time on the websocket's clock (its <see cref="WsConnectOptions.Scheduler"/>, else its session's) when it arrived.</param>
public sealed record FakeWebSocketFrame(int Opcode, byte[] Payload, DateTimeOffset Time)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Payload);

    /// <summary>A close frame's status code, or null.</summary>
    public int? CloseCode => Opcode == 8 && Payload.Length >= 2 ? Payload[0] << 8 | Payload[1] : null;

    /// <inheritdoc />
    public override string ToString() => Opcode switch { 1 => "text " + Text, 2 => $"binary {Payload.Length} B", 8 => $"close {CloseCode}", 9 => "ping", 10 => "pong", 0 => $"continuation {Payload.Length} B", _ => "opcode " + Opcode };
}

/// <summary>One scripted websocket session as the server saw it: the upgrade request and what the client sent.</summary>
public sealed class FakeWebSocketSession
{
    private readonly List<FakeWebSocketFrame> _received = new();

    internal FakeWebSocketSession(FakeCall call) => Call = call;

    /// <summary>The upgrade request.</summary>
    public FakeCall Call { get; }

    /// <summary>Every frame the client sent, in order (pongs and the close frame included).</summary>
    public IReadOnlyList<FakeWebSocketFrame> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    /// <summary>The text messages the client sent, each joined from its frames (see <see cref="WsConnectOptions.MaxFrameSize"/>).</summary>
    public IReadOnlyList<string> ReceivedTexts
    {
        get
        {
            // A message split into frames is a text frame then continuations (opcode 0), maybe with control frames
            // between them; its bytes are decoded once joined, as a character may straddle two frames.
            var texts = new List<string>();
            List<byte>? text = null; // the text message being joined; null in a binary message
            foreach (var f in Received)
            {
                if (f.Opcode is 1 or 2)
                {
                    if (text is not null) texts.Add(Encoding.UTF8.GetString(text.ToArray()));
                    text = f.Opcode == 1 ? new List<byte>(f.Payload) : null;
                }
                else if (f.Opcode == 0) text?.AddRange(f.Payload);
            }
            if (text is not null) texts.Add(Encoding.UTF8.GetString(text.ToArray()));
            return texts;
        }
    }

    /// <summary>True once the client closed the connection.</summary>
    public bool ClientDisconnected { get; internal set; }

    internal void Add(FakeWebSocketFrame frame)
    {
        lock (_received) _received.Add(frame);
    }
}

/// <summary>Runs a <see cref="FakeWebSocketScript"/> on an upgraded connection and records the client's frames.</summary>
internal sealed class FakeWebSocketServer(FakeServerConnection connection, FakeWebSocketScript script, IScheduler scheduler, FakeCall call)
{
    private readonly List<byte> _buffer = new();
    private bool _closeSent;

    public FakeWebSocketSession Session { get; } = new(call);

    public void Start()
    {
        var key = call.Header("Sec-WebSocket-Key") ?? "";
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n"
            + (script.Protocol is { } p ? "Sec-WebSocket-Protocol: " + p + "\r\n" : "") + "\r\n";
        var response = FakeResponse.Status(101);
        call.Response = response;
        call.Completed = true;
        connection.Stream.Deliver(Encoding.ASCII.GetBytes(head));
        var start = scheduler.Now;
        foreach (var (at, frame, _) in script.Steps)
        {
            void Send()
            {
                if (frame[0] == 0x88) _closeSent = true;
                connection.Stream.Deliver(frame);
            }
            if (at <= TimeSpan.Zero) Send();
            else connection.AddTimer(scheduler.Schedule(start + at, Send));
        }
    }

    public void OnClientBytes(ReadOnlySpan<byte> data)
    {
        List<FakeWebSocketFrame> frames = new();
        lock (_buffer)
        {
            _buffer.AddRange(data);
            while (TryReadFrame(out var frame)) frames.Add(frame);
        }
        foreach (var f in frames)
        {
            Session.Add(f);
            // A live server answers a PING (a client's heartbeat) with a PONG of the same payload, until it closes.
            if (f.Opcode == 9 && !_closeSent && !script.IgnoresPings) connection.Stream.Deliver(FakeWebSocketScript.Frame(10, f.Payload));
            // The server's half of the closing handshake: echo the client's close, then end the connection.
            if (f.Opcode == 8)
            {
                if (!_closeSent) connection.Stream.Deliver(FakeWebSocketScript.Frame(8, f.Payload.Length >= 2 ? f.Payload[..2] : f.Payload));
                _closeSent = true;
                connection.Stream.DeliverEof();
            }
        }
    }

    public void OnClientClosed() => Session.ClientDisconnected = true;

    private bool TryReadFrame(out FakeWebSocketFrame frame)
    {
        frame = null!;
        if (_buffer.Count < 2) return false;
        var opcode = _buffer[0] & 0x0F;
        var masked = (_buffer[1] & 0x80) != 0;
        long length = _buffer[1] & 0x7F;
        var pos = 2;
        if (length == 126)
        {
            if (_buffer.Count < 4) return false;
            length = _buffer[2] << 8 | _buffer[3];
            pos = 4;
        }
        else if (length == 127)
        {
            if (_buffer.Count < 10) return false;
            length = 0;
            for (var i = 0; i < 8; i++) length = length << 8 | _buffer[2 + i];
            pos = 10;
        }
        var maskAt = pos;
        if (masked) pos += 4;
        if (_buffer.Count < pos + length) return false;
        var payload = _buffer.GetRange(pos, (int)length).ToArray();
        if (masked)
            for (var i = 0; i < payload.Length; i++) payload[i] ^= _buffer[maskAt + i % 4];
        _buffer.RemoveRange(0, pos + (int)length);
        frame = new FakeWebSocketFrame(opcode, payload, scheduler.Now);
        return true;
    }
}
