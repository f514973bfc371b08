using System.Text;

namespace RxHttp.Http1;

internal enum ChunkedStatus
{
    NeedMoreData,
    Data,
    Done,
}

/// <summary>
/// Restartable decoder for the chunked transfer coding (RFC 9112 §7.1). The input may be split at any byte; body
/// data is handed back as slices of the caller's input so nothing is copied.
/// </summary>
internal sealed class ChunkedDecoder
{
    private enum State
    {
        Size,        // reading hex digits of chunk-size
        SizeBws,     // whitespace after the digits: only ';' may follow
        Extension,   // inside chunk-ext (validated by _ext, values ignored) up to the line end
        SizeLf,      // saw CR ending the size line; need LF
        Data,
        DataCr,      // chunk data done; need CRLF (or a lone LF)
        DataLf,
        Trailer,     // reading trailer lines until the empty line
        Done,
    }

    // Where inside chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1).
    private enum Ext : byte
    {
        BeforeName,   // after ';' (BWS allowed)
        Name,
        AfterName,    // BWS after a name: '=' or ';' must follow
        BeforeValue,  // after '=' (BWS allowed)
        Token,
        Quoted,
        QuotedPair,   // after a backslash inside a quoted value
        AfterQuote,   // right after a quoted value: ';', BWS or the line end
        ValueBws,     // BWS after a value: only ';' may follow
    }

    private readonly HttpParserLimits _limits;
    private State _state;
    private Ext _ext;
    private long _size;
    private int _digits;
    private int _lineLength;
    private long _remaining;
    // Holds a trailer line that arrives in pieces; trailers are rare, so it is allocated on first need.
    private byte[]? _line;
    private int _lineFill;
    private List<KeyValuePair<string, string>>? _trailers;

    public ChunkedDecoder(HttpParserLimits? limits = null)
    {
        _limits = limits ?? HttpParserLimits.Default;
    }

    /// <summary>Trailer fields in order (names as sent, values decoded as Latin-1 so obs-text survives); complete after <see cref="ChunkedStatus.Done"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers
        => (IReadOnlyList<KeyValuePair<string, string>>?)_trailers ?? Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Bytes of the current chunk's data still to come while the decoder is inside chunk data, else 0.</summary>
    public long DataRemaining => _state == State.Data ? _remaining : 0;

    /// <summary>
    /// Accounts for <paramref name="count"/> bytes of chunk data the caller read straight from the socket rather than
    /// through <see cref="Decode"/> (large chunks skip the connection buffer); at most <see cref="DataRemaining"/>.
    /// </summary>
    public void SkipData(int count)
    {
        if (count < 0 || count > DataRemaining) throw new ArgumentOutOfRangeException(nameof(count));
        _remaining -= count;
        if (_remaining == 0) _state = State.DataCr;
    }

    public void Reset()
    {
        _state = State.Size;
        _size = 0;
        _digits = 0;
        _lineLength = 0;
        _remaining = 0;
        _lineFill = 0;
        _trailers = null;
    }

    /// <summary>
    /// Consumes framing from <paramref name="input"/> until body data, the end of the body, or the end of the input.
    /// On <see cref="ChunkedStatus.Data"/> the data is input[dataOffset..dataOffset+dataLength) and
    /// consumed = dataOffset + dataLength. On <see cref="ChunkedStatus.Done"/> the bytes after consumed belong to the next message.
    /// </summary>
    public ChunkedStatus Decode(ReadOnlySpan<byte> input, out int consumed, out int dataOffset, out int dataLength)
    {
        dataOffset = 0;
        dataLength = 0;
        int pos = 0;
        while (true)
        {
            if (_state == State.Done)
            {
                consumed = pos;
                return ChunkedStatus.Done;
            }
            if (pos == input.Length)
            {
                consumed = pos;
                return ChunkedStatus.NeedMoreData;
            }

            switch (_state)
            {
                case State.Data:
                {
                    int n = (int)Math.Min(_remaining, input.Length - pos);
                    _remaining -= n;
                    if (_remaining == 0) _state = State.DataCr;
                    dataOffset = pos;
                    dataLength = n;
                    consumed = pos + n;
                    return ChunkedStatus.Data;
                }

                case State.Size:
                {
                    byte b = input[pos];
                    int hex = HexValue(b);
                    if (hex >= 0)
                    {
                        // Only the value can overflow: chunk-size is 1*HEXDIG, so leading zeros are a valid size
                        // however many (aiohttp and HttpClient take them), and the size line's limit bounds them.
                        if (_size > (long.MaxValue >> 4))
                            throw Payload("Chunk size is too large (above Int64.MaxValue)");
                        _size = (_size << 4) | (uint)hex;
                        _digits++;
                        CountSizeLineBytes(1);
                        pos++;
                        break;
                    }
                    if (_digits == 0)
                        throw Payload($"Invalid chunk size: expected a hex digit, got 0x{b:X2}");
                    pos++;
                    switch (b)
                    {
                        case (byte)' ' or (byte)'\t': _state = State.SizeBws; CountSizeLineBytes(1); break;
                        case (byte)';': StartExtension(); break;
                        case (byte)'\r': _state = State.SizeLf; break;
                        case (byte)'\n': EndSizeLine(); break;
                        default: throw Payload($"Invalid character 0x{b:X2} in chunk size");
                    }
                    break;
                }

                case State.SizeBws:
                {
                    byte b = input[pos++];
                    switch (b)
                    {
                        case (byte)' ' or (byte)'\t': CountSizeLineBytes(1); break;
                        case (byte)';': StartExtension(); break;
                        // The grammar allows BWS only before ';': "25  \r\n" is how a size gets smuggled past
                        // parsers that disagree about where it ends.
                        case (byte)'\r' or (byte)'\n': throw Payload("Whitespace after chunk size without a chunk extension");
                        default: throw Payload($"Invalid character 0x{b:X2} after chunk size");
                    }
                    break;
                }

                case State.Extension:
                    pos = ReadExtension(input, pos);
                    break;

                case State.SizeLf:
                    if (input[pos++] != '\n') throw Payload("Bare CR in chunk size line");
                    EndSizeLine();
                    break;

                case State.DataCr:
                {
                    byte b = input[pos++];
                    if (b == '\r') _state = State.DataLf;
                    else if (b == '\n') _state = State.Size;
                    else throw Payload("Missing CRLF after chunk data");
                    break;
                }

                case State.DataLf:
                    if (input[pos++] != '\n') throw Payload("Missing CRLF after chunk data (bare CR)");
                    _state = State.Size;
                    break;

                case State.Trailer:
                    pos = ReadTrailer(input, pos);
                    break;

                default:
                    throw new InvalidOperationException("Unknown chunked decoder state " + _state);
            }
        }
    }

    private void StartExtension()
    {
        _state = State.Extension;
        _ext = Ext.BeforeName;
        CountSizeLineBytes(1);
    }

    // Extensions carry nothing we use, but they are validated byte by byte: a quote or an empty name that one parser
    // tolerates and the next one does not is exactly where the end of a chunk-size line becomes ambiguous.
    private int ReadExtension(ReadOnlySpan<byte> input, int pos)
    {
        int start = pos;
        // The limit trips at the byte that crosses it, as it does when the line comes in pieces: checked only at the
        // line's end, a bad byte past the limit was reported for a line that came whole, "too long" for the same
        // line split before that byte (found by the fuzzer's whole-versus-split check, Fuzz/Regressions/chunked).
        int allowance = _limits.MaxLineSize - _lineLength;
        while (pos < input.Length)
        {
            byte b = input[pos];
            if (b == '\r' || b == '\n')
            {
                CountSizeLineBytes(pos - start);
                switch (_ext)
                {
                    case Ext.Name or Ext.Token or Ext.AfterQuote:
                        break;
                    case Ext.BeforeName: throw Payload("Empty chunk extension name");
                    case Ext.BeforeValue: throw Payload("Empty chunk extension value");
                    case Ext.Quoted or Ext.QuotedPair: throw Payload("Unterminated quoted string in chunk extension");
                    default: throw Payload("Whitespace at the end of a chunk extension");
                }
                pos++;
                if (b == '\r') _state = State.SizeLf;
                else EndSizeLine();
                return pos;
            }
            if (pos - start >= allowance) CountSizeLineBytes(pos - start + 1);
            _ext = NextExt(_ext, b);
            pos++;
        }
        CountSizeLineBytes(pos - start);
        return pos;
    }

    private Ext NextExt(Ext state, byte b)
    {
        bool ws = b is (byte)' ' or (byte)'\t';
        bool tchar = HttpSyntax.TChar.Contains(b);
        switch (state)
        {
            case Ext.BeforeName:
                if (ws) return state;
                if (tchar) return Ext.Name;
                if (b == ';') throw Payload("Empty chunk extension name");
                break;
            case Ext.Name:
                if (tchar) return state;
                if (ws) return Ext.AfterName;
                if (b == '=') return Ext.BeforeValue;
                if (b == ';') return Ext.BeforeName;
                break;
            case Ext.AfterName:
                if (ws) return state;
                if (b == '=') return Ext.BeforeValue;
                if (b == ';') return Ext.BeforeName;
                break;
            case Ext.BeforeValue:
                if (ws) return state;
                if (tchar) return Ext.Token;
                if (b == '"') return Ext.Quoted;
                if (b == ';') throw Payload("Empty chunk extension value");
                break;
            case Ext.Token:
                if (tchar) return state;
                if (ws) return Ext.ValueBws;
                if (b == ';') return Ext.BeforeName;
                break;
            case Ext.Quoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
                if (b == '"') return Ext.AfterQuote;
                if (b == '\\') return Ext.QuotedPair;
                if (ws || (b >= 0x21 && b != 0x7F)) return state;
                break;
            case Ext.QuotedPair:
                if (ws || (b >= 0x21 && b != 0x7F)) return Ext.Quoted;
                break;
            case Ext.AfterQuote:
            case Ext.ValueBws:
                if (ws) return Ext.ValueBws;
                if (b == ';') return Ext.BeforeName;
                break;
        }
        throw Payload(b < 0x20 || b == 0x7F
            ? $"Invalid control character 0x{b:X2} in chunk extension"
            : $"Invalid character 0x{b:X2} in chunk extension");
    }

    private static int HexValue(byte b)
    {
        uint d = (uint)(b - '0');
        if (d <= 9) return (int)d;
        uint l = (uint)((b | 0x20) - 'a');
        return l <= 5 ? (int)l + 10 : -1;
    }

    private void CountSizeLineBytes(int n)
    {
        _lineLength += n;
        if (_lineLength > _limits.MaxLineSize)
            throw Payload($"Chunk size line is too long: limit {_limits.MaxLineSize} bytes");
    }

    private void EndSizeLine()
    {
        _remaining = _size;
        _state = _size == 0 ? State.Trailer : State.Data;
        _size = 0;
        _digits = 0;
        _lineLength = 0;
    }

    // Returns the new position in input. Lines that arrive whole are checked in place; only a line split across
    // calls is copied into _line.
    private int ReadTrailer(ReadOnlySpan<byte> input, int pos)
    {
        ReadOnlySpan<byte> rest = input[pos..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            Append(rest);
            ReadOnlySpan<byte> partial = _line.AsSpan(0, _lineFill);
            int contentSoFar = partial[^1] == '\r' ? partial.Length - 1 : partial.Length;
            // One trailer too many is reported before its length, as for a line that comes whole.
            if (TrailerCount >= _limits.MaxHeaders && partial[0] != '\r') ThrowTooManyTrailers();
            if (contentSoFar > _limits.MaxFieldSize) ThrowTrailerTooLong();
            return input.Length;
        }

        ReadOnlySpan<byte> line;
        if (_lineFill == 0)
        {
            line = rest[..lf];
        }
        else
        {
            Append(rest[..lf]);
            line = _line.AsSpan(0, _lineFill);
        }
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];

        if (line.Length == 0)
        {
            _state = State.Done;
        }
        else
        {
            if (TrailerCount >= _limits.MaxHeaders) ThrowTooManyTrailers();
            if (line.Length > _limits.MaxFieldSize) ThrowTrailerTooLong();
            string? error = HttpSyntax.CheckFieldLine(line, out int nameLength, out int valueStart, out int valueLength);
            if (error is not null) throw Payload("Invalid trailer: " + error);
            (_trailers ??= new List<KeyValuePair<string, string>>()).Add(new KeyValuePair<string, string>(
                Encoding.ASCII.GetString(line[..nameLength]), Encoding.Latin1.GetString(line.Slice(valueStart, valueLength))));
        }
        _lineFill = 0;
        return pos + lf + 1;
    }

    private int TrailerCount => _trailers?.Count ?? 0;

    private void Append(ReadOnlySpan<byte> bytes)
    {
        // The limit checks run right after each append, so the buffer never needs to exceed a limit plus one read.
        int needed = _lineFill + bytes.Length;
        if (_line is null || _line.Length < needed)
        {
            var bigger = new byte[Math.Max(needed, Math.Max(256, (_line?.Length ?? 0) * 2))];
            _line.AsSpan(0, _lineFill).CopyTo(bigger);
            _line = bigger;
        }
        bytes.CopyTo(_line.AsSpan(_lineFill));
        _lineFill = needed;
    }

    private void ThrowTrailerTooLong() => throw Payload($"Trailer line is too long: limit {_limits.MaxFieldSize} bytes");

    private void ThrowTooManyTrailers() => throw Payload($"Too many trailers: limit {_limits.MaxHeaders}");

    private static HttpParseException Payload(string message) => new(message, isPayloadError: true);
}
