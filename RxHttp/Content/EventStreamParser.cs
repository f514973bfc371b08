using System.Text;

namespace RxHttp;

/// <summary>
/// Parses a <c>text/event-stream</c> body as the WHATWG HTML standard's event stream interpretation does, across any
/// split of the bytes: lines end with CRLF, LF or CR (a CR at the end of one push and an LF at the start of the next
/// are one end); a leading UTF-8 BOM is dropped; each line is decoded as UTF-8 whatever the charset says (invalid
/// bytes become U+FFFD, as the standard decodes); a blank line dispatches the event gathered so far, and an event
/// the body ends inside is dropped. A line or an event's data over <c>maxEventSize</c> fails with
/// <see cref="ClientPayloadTooLargeError"/> rather than buffering without bound. The last event ID and the reconnection time
/// outlive events, and the reconnecting source reads them after the body ends.
/// </summary>
internal sealed class EventStreamParser(int maxEventSize, string lastEventId = "", TimeSpan? retry = null) : IBodySplitter<ServerSentEvent>
{
    private byte[] _line = new byte[256];
    private int _length;
    private bool _afterCr; // the last byte pushed ended a line with CR: an LF next belongs to it
    private ByteOrderMark.Lead _lead;
    private readonly StringBuilder _data = new();
    private bool _hasData;
    private string? _eventType;
    private string _lastIdBuffer = lastEventId;

    /// <summary>The last event ID: what a reconnect sends as Last-Event-ID (set at each dispatch, as the standard does).</summary>
    public string LastEventId { get; private set; } = lastEventId;

    /// <summary>The reconnection time the latest valid <c>retry</c> field set, or the one given at the start.</summary>
    public TimeSpan? Retry { get; private set; } = retry;

    public void Push(ReadOnlySpan<byte> bytes, List<ServerSentEvent> output)
    {
        if (!_lead.Decided)
        {
            if (!_lead.TryTake(ref bytes, final: false, out var head)) return;
            // The stream is UTF-8 whatever it says, so only a UTF-8 mark is one; the bytes of another are text.
            PushText(head[(ByteOrderMark.Sniff(head, out var mark) is UTF8Encoding ? mark : 0)..], output);
        }
        PushText(bytes, output);
    }

    private void PushText(ReadOnlySpan<byte> bytes, List<ServerSentEvent> output)
    {
        while (!bytes.IsEmpty)
        {
            if (_afterCr)
            {
                _afterCr = false;
                if (bytes[0] == (byte)'\n')
                {
                    bytes = bytes[1..];
                    continue;
                }
            }
            var end = bytes.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Append(bytes);
                return;
            }
            Append(bytes[..end]);
            _afterCr = bytes[end] == (byte)'\r';
            bytes = bytes[(end + 1)..];
            Line(_line.AsSpan(0, _length), output);
            _length = 0;
        }
    }

    /// <summary>The body ended: an event without its blank line is dropped, as is a last line without its end.</summary>
    public void Complete(List<ServerSentEvent> output)
    {
        _length = 0;
        _data.Clear();
        _hasData = false;
        _eventType = null;
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        if (_length + part.Length > maxEventSize)
            throw new ClientPayloadTooLargeError(maxEventSize, $"Event stream line is too long: more than {maxEventSize} bytes without a line end (raise maxEventSize).");
        if (_length + part.Length > _line.Length)
            Array.Resize(ref _line, Math.Min(Math.Max(_line.Length * 2, _length + part.Length), maxEventSize));
        part.CopyTo(_line.AsSpan(_length));
        _length += part.Length;
    }

    private void Line(ReadOnlySpan<byte> line, List<ServerSentEvent> output)
    {
        if (line.IsEmpty)
        {
            Dispatch(output);
            return;
        }
        if (line[0] == (byte)':') return; // a comment: servers send them to keep the connection open
        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? ReadOnlySpan<byte>.Empty : line[(colon + 1)..];
        if (value is [(byte)' ', ..]) value = value[1..];
        switch (name)
        {
            case [(byte)'d', (byte)'a', (byte)'t', (byte)'a']:
                if (_data.Length + value.Length + 1 > maxEventSize)
                    throw new ClientPayloadTooLargeError(maxEventSize, $"Event stream event is too large: more than {maxEventSize} bytes of data (raise maxEventSize).");
                if (_hasData) _data.Append('\n');
                _data.Append(Encoding.UTF8.GetString(value));
                _hasData = true;
                break;
            case [(byte)'e', (byte)'v', (byte)'e', (byte)'n', (byte)'t']:
                _eventType = Encoding.UTF8.GetString(value);
                break;
            case [(byte)'i', (byte)'d']:
                if (!value.Contains((byte)0)) _lastIdBuffer = Encoding.UTF8.GetString(value);
                break;
            case [(byte)'r', (byte)'e', (byte)'t', (byte)'r', (byte)'y']:
                if (!value.IsEmpty && !value.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
                {
                    // Leading zeros are no magnitude: "0005" is 5 ms as browsers read it, not a clamp to the maximum.
                    var digits = value.TrimStart((byte)'0');
                    Retry = TimeSpan.FromMilliseconds(digits.Length > 12 ? 999_999_999_999 : digits.IsEmpty ? 0 : long.Parse(Encoding.ASCII.GetString(digits)));
                }
                break;
        }
    }

    private void Dispatch(List<ServerSentEvent> output)
    {
        LastEventId = _lastIdBuffer;
        var type = _eventType;
        _eventType = null;
        if (!_hasData) return;
        var data = _data.ToString();
        _data.Clear();
        _hasData = false;
        output.Add(new ServerSentEvent(string.IsNullOrEmpty(type) ? ServerSentEvent.DefaultType : type, data, LastEventId, Retry));
    }
}
