using System.Buffers;

namespace RxHttp.Http1;

/// <summary>Receives the parts of a response head. Spans are only valid during the call.</summary>
internal interface IHttpResponseHeadHandler
{
    void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason);

    /// <summary>One header in wire order; <paramref name="value"/> is already trimmed of OWS.</summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);

    /// <summary>How many <see cref="OnHeader"/> calls follow, so a handler can size its storage once.</summary>
    void OnHeaderCount(int count) { }
}

/// <summary>Stateless, restartable parser for an HTTP/1.x response head (RFC 9112 §2-§5).</summary>
internal static class HttpResponseParser
{
    /// <summary>Where one validated header sits in the buffer, so reporting can wait until the head is complete.</summary>
    private readonly struct HeaderSlot(int nameStart, int nameLength, int valueStart, int valueLength)
    {
        public readonly int NameStart = nameStart;
        public readonly int NameLength = nameLength;
        public readonly int ValueStart = valueStart;
        public readonly int ValueLength = valueLength;
    }

    // Enough for typical responses without renting; larger heads spill into a pooled array.
    private const int StackSlots = 24;

    /// <summary>
    /// Parses one response head from the start of <paramref name="buffer"/>. Returns false (nothing reported,
    /// <paramref name="consumed"/> = 0) when the head is incomplete; true with the head's length once the empty line
    /// has arrived. Throws <see cref="HttpParseException"/> on malformed input and as soon as a limit is provably exceeded.
    /// </summary>
    public static bool TryParseHead(ReadOnlySpan<byte> buffer, IHttpResponseHeadHandler handler, HttpParserLimits limits, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(limits);
        consumed = 0;

        // RFC 9112 §2.2: robust recipients skip empty lines before the start line (servers emit a stray CRLF after
        // a body or between 100 Continue and the final response). They count towards the status line's limit, so an
        // endless stream of them still ends in an error rather than an endless read.
        int skipped = SkipEmptyLines(buffer);
        if (skipped > limits.MaxLineSize)
            throw new HttpParseException($"Too many empty lines before the status line: limit {limits.MaxLineSize} bytes");
        if (skipped > 0)
        {
            if (!TryParseHead(buffer[skipped..], handler, limits, out consumed)) return false;
            consumed += skipped;
            return true;
        }

        int lf = buffer.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (ContentLengthSoFar(buffer) > limits.MaxLineSize) ThrowStatusLineTooLong(limits);
            return false;
        }

        ReadOnlySpan<byte> statusLine = buffer[..lf];
        if (statusLine.Length > 0 && statusLine[^1] == '\r') statusLine = statusLine[..^1];
        if (statusLine.Length > limits.MaxLineSize) ThrowStatusLineTooLong(limits);
        ParseStatusLine(statusLine, out int major, out int minor, out int status);

        // Headers are validated before anything is reported so that an incomplete head leaves the handler
        // untouched (the caller re-parses from the same start), yet malformed lines fail as early as possible.
        Span<HeaderSlot> slots = stackalloc HeaderSlot[StackSlots];
        HeaderSlot[]? rented = null;
        try
        {
            int count = 0;
            int pos = lf + 1;
            while (true)
            {
                ReadOnlySpan<byte> rest = buffer[pos..];
                // One scan finds both the line end and any control byte: for a well-formed line the first control
                // byte is its terminator, which also proves the value clean without a second pass over it.
                int lineLength, next;
                bool clean = true;
                int stop = rest.IndexOfAny(HttpSyntax.InvalidFieldValue);
                if (stop >= 0 && rest[stop] == '\n')
                {
                    lineLength = stop;
                    next = stop + 1;
                }
                else if (stop >= 0 && rest[stop] == '\r' && stop + 1 < rest.Length && rest[stop + 1] == '\n')
                {
                    lineLength = stop;
                    next = stop + 2;
                }
                else
                {
                    // Incomplete, or a control byte inside the line: find the real end so limits and the precise
                    // error message come out the same however the bytes were split.
                    lf = rest.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        if (ContentLengthSoFar(rest) > limits.MaxFieldSize) ThrowFieldTooLong(limits);
                        // Anything but a CR here starts another header line (or an invalid one), never the empty line.
                        if (count >= limits.MaxHeaders && rest.Length > 0 && rest[0] != '\r') ThrowTooManyHeaders(limits);
                        return false;
                    }
                    lineLength = lf > 0 && rest[lf - 1] == '\r' ? lf - 1 : lf;
                    next = lf + 1;
                    clean = false;
                }

                if (lineLength == 0)
                {
                    pos += next;
                    break;
                }
                if (lineLength > limits.MaxFieldSize) ThrowFieldTooLong(limits);
                if (count >= limits.MaxHeaders) ThrowTooManyHeaders(limits);

                string? error = HttpSyntax.CheckFieldLine(rest[..lineLength], out int nameLength, out int valueStart, out int valueLength, valueKnownClean: clean);
                if (error is not null) throw new HttpParseException(error);

                if (count == slots.Length)
                {
                    var bigger = ArrayPool<HeaderSlot>.Shared.Rent(slots.Length * 2);
                    slots.CopyTo(bigger);
                    if (rented is not null) ArrayPool<HeaderSlot>.Shared.Return(rented);
                    rented = bigger;
                    slots = bigger;
                }
                slots[count++] = new HeaderSlot(pos, nameLength, pos + valueStart, valueLength);
                pos += next;
            }

            ReadOnlySpan<byte> reason = statusLine.Length > 13 ? statusLine[13..] : default;
            handler.OnStatusLine(major, minor, status, reason);
            handler.OnHeaderCount(count);
            for (int i = 0; i < count; i++)
            {
                ref readonly HeaderSlot s = ref slots[i];
                handler.OnHeader(buffer.Slice(s.NameStart, s.NameLength), buffer.Slice(s.ValueStart, s.ValueLength));
            }
            consumed = pos;
            return true;
        }
        finally
        {
            if (rented is not null) ArrayPool<HeaderSlot>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Length of the empty lines (CRLF or bare LF) at the start of <paramref name="buffer"/>. A CR that may yet be
    /// followed by LF ends the count, so the caller waits; a CR followed by anything else is left to the status-line
    /// check, which rejects it.
    /// </summary>
    private static int SkipEmptyLines(ReadOnlySpan<byte> buffer)
    {
        int i = 0;
        while (i < buffer.Length)
        {
            if (buffer[i] == '\n') i++;
            else if (buffer[i] == '\r' && i + 1 < buffer.Length && buffer[i + 1] == '\n') i += 2;
            else break;
        }
        return i;
    }

    /// <summary>
    /// Length of an unterminated line's content so far. A trailing CR may yet turn out to be the terminator,
    /// so it is not counted: a limit is only "provably" exceeded once real content passes it.
    /// </summary>
    private static int ContentLengthSoFar(ReadOnlySpan<byte> partial)
        => partial.Length > 0 && partial[^1] == '\r' ? partial.Length - 1 : partial.Length;

    // status-line = HTTP-version SP status-code SP [ reason-phrase ]  (RFC 9112 §4), with the SP before an empty
    // reason optional because many servers omit it.
    private static void ParseStatusLine(ReadOnlySpan<byte> line, out int major, out int minor, out int status)
    {
        if (line.Length < 8 || !line.StartsWith("HTTP/"u8) || !IsDigit(line[5]) || line[6] != '.' || !IsDigit(line[7]))
        {
            throw new HttpParseException("Invalid status line: expected HTTP version 'HTTP/<digit>.<digit>' at the start, got "
                + HttpSyntax.Excerpt(line));
        }
        major = line[5] - '0';
        minor = line[7] - '0';
        // RFC 9112 §2.3: the major version names the message syntax. Only HTTP/1.x is spoken on this connection;
        // "HTTP/2.0" or "HTTP/5.6" in an HTTP/1.1 exchange is a confused or hostile peer, not a framing to guess.
        if (major != 1)
        {
            throw new HttpParseException($"Unsupported HTTP version HTTP/{major}.{minor} in status line (only HTTP/1.x is spoken here): "
                + HttpSyntax.Excerpt(line));
        }

        if (line.Length == 8 || line[8] != ' ')
        {
            throw new HttpParseException((line.Length == 8 ? "Invalid status line: missing status code: "
                : "Invalid status line: expected a single SP after the HTTP version: ") + HttpSyntax.Excerpt(line));
        }
        if (line.Length < 12 || !IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11]) || line[9] == '0'
            || (line.Length > 12 && line[12] != ' '))
        {
            throw new HttpParseException("Invalid status line: status code must be exactly 3 digits from 100 to 999: "
                + HttpSyntax.Excerpt(line));
        }
        status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');

        if (line.Length > 13)
        {
            ReadOnlySpan<byte> reason = line[13..];
            int bad = reason.IndexOfAny(HttpSyntax.InvalidFieldValue);
            if (bad >= 0)
            {
                throw new HttpParseException((reason[bad] == '\r' ? "Invalid status line: bare CR in reason phrase: "
                    : $"Invalid status line: control character 0x{reason[bad]:X2} in reason phrase: ") + HttpSyntax.Excerpt(line));
            }
        }
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static void ThrowStatusLineTooLong(HttpParserLimits limits)
        => throw new HttpParseException($"Status line is too long: limit {limits.MaxLineSize} bytes");

    private static void ThrowFieldTooLong(HttpParserLimits limits)
        => throw new HttpParseException($"Header line is too long: limit {limits.MaxFieldSize} bytes");

    private static void ThrowTooManyHeaders(HttpParserLimits limits)
        => throw new HttpParseException($"Too many headers: limit {limits.MaxHeaders}");
}
