namespace RxHttp;

/// <summary>
/// A multipart part's bytes made to match its own headers, as aiohttp's <c>MultipartWriter</c> does: a
/// <c>Content-Encoding</c> of gzip or deflate (raw, as aiohttp's parts) compresses the payload, a <c>Content-Transfer-Encoding</c> of base64 or
/// quoted-printable encodes it (after compressing). The reverse of <see cref="PartDecoding"/>, so a part declared
/// base64 is base64 on the wire instead of raw bytes a receiver would try to decode.
/// </summary>
internal static class PartEncoding
{
    /// <summary>Refuses a coding no receiver could undo, when the part is added rather than halfway through a request.</summary>
    /// <exception cref="ArgumentException">A Content-Encoding other than gzip, deflate or identity, or a
    /// Content-Transfer-Encoding other than base64, quoted-printable, 7bit, 8bit or binary.</exception>
    public static void Check(HeaderCollection headers)
    {
        try
        {
            _ = Codings(headers);
        }
        catch (ClientPayloadError e)
        {
            throw new ArgumentException(e.Message, nameof(headers));
        }
    }

    /// <summary>What is written for <paramref name="part"/>: its payload, or the payload encoded as its headers say.</summary>
    /// <exception cref="ClientPayloadError">The part's headers were changed to a coding it cannot apply.</exception>
    public static Payload Encoded(BodyPart part)
    {
        var (content, transfer) = Codings(part.Headers);
        var payload = part.Payload;
        if (content is not null) payload = new CompressedPayload(payload, content) { RawDeflate = true };
        if (transfer is not null) payload = new TransferEncodedPayload(payload, transfer == "base64");
        return payload;
    }

    private static (string? Content, string? Transfer) Codings(HeaderCollection headers)
    {
        var content = headers.Get("Content-Encoding")?.Trim().ToLowerInvariant() switch
        {
            null or "" or "identity" => null,
            "gzip" or "x-gzip" => "gzip",
            "deflate" => "deflate",
            var other => throw new ClientPayloadError($"Cannot encode a part as Content-Encoding '{other}': gzip, deflate or identity."),
        };
        var transfer = headers.Get("Content-Transfer-Encoding")?.Trim().ToLowerInvariant() switch
        {
            null or "" or "7bit" or "8bit" or "binary" => null,
            "base64" => "base64",
            "quoted-printable" => "quoted-printable",
            var other => throw new ClientPayloadError($"Cannot encode a part as Content-Transfer-Encoding '{other}': base64, quoted-printable, 7bit, 8bit or binary."),
        };
        return (content, transfer);
    }

    // Its length is unknown (as aiohttp, which sends such a multipart chunked): the encoded size depends on the bytes.
    private sealed class TransferEncodedPayload(Payload inner, bool base64) : Payload
    {
        public override bool IsReplayable => inner.IsReplayable;

        public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
        {
            var encoder = base64 ? (EncodingWriter)new Base64Writer(writer) : new QuotedPrintableWriter(writer);
            await inner.WriteToAsync(encoder, cancellationToken).ConfigureAwait(false);
            await encoder.FinishAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private abstract class EncodingWriter(PayloadWriter next) : PayloadWriter
    {
        private long _in;

        protected PayloadWriter Next => next;

        internal override bool OnVirtualClock => next.OnVirtualClock;

        public override long BytesWritten => _in;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _in += data.Length;
            var encoded = Encode(data.Span);
            return encoded.Length == 0 ? ValueTask.CompletedTask : next.WriteAsync(encoded, cancellationToken);
        }

        public ValueTask FinishAsync(CancellationToken cancellationToken)
        {
            var tail = Finish();
            return tail.Length == 0 ? ValueTask.CompletedTask : next.WriteAsync(tail, cancellationToken);
        }

        protected abstract byte[] Encode(ReadOnlySpan<byte> data);
        protected abstract byte[] Finish();
    }

    // Unwrapped, as aiohttp writes it; base64 has no '-', so it can never hold the boundary delimiter.
    private sealed class Base64Writer(PayloadWriter next) : EncodingWriter(next)
    {
        private readonly byte[] _carry = new byte[2];
        private int _carried;

        protected override byte[] Encode(ReadOnlySpan<byte> data)
        {
            var joined = new byte[_carried + data.Length];
            _carry.AsSpan(0, _carried).CopyTo(joined);
            data.CopyTo(joined.AsSpan(_carried));
            var whole = joined.Length / 3 * 3;
            _carried = joined.Length - whole;
            joined.AsSpan(whole).CopyTo(_carry);
            return System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(joined, 0, whole));
        }

        protected override byte[] Finish() => System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(_carry, 0, _carried));
    }

    /// <summary>
    /// RFC 2045 §6.7, exact for any bytes: printable ASCII but <c>=</c> as is, everything else (CR and LF too) as
    /// <c>=XX</c>, soft line breaks keeping lines within 76 characters, a space or tab that would end the body
    /// encoded, since transports may strip trailing white space, and so is a '-' that would open a line.
    /// </summary>
    private sealed class QuotedPrintableWriter(PayloadWriter next) : EncodingWriter(next)
    {
        private const int MaxLine = 76;
        private int _column;
        private int _pendingSpace = -1;

        protected override byte[] Encode(ReadOnlySpan<byte> data)
        {
            var output = new List<byte>(data.Length + data.Length / 2);
            foreach (var b in data)
            {
                if (_pendingSpace >= 0) Token(output, (byte)_pendingSpace, literal: true);
                _pendingSpace = -1;
                if (b is (byte)' ' or (byte)'\t') _pendingSpace = b;
                else Token(output, b, literal: b is >= 33 and <= 126 and not (byte)'=');
            }
            return output.ToArray();
        }

        protected override byte[] Finish()
        {
            var output = new List<byte>(4);
            if (_pendingSpace >= 0) Token(output, (byte)_pendingSpace, literal: false);
            _pendingSpace = -1;
            return output.ToArray();
        }

        private void Token(List<byte> output, byte b, bool literal)
        {
            var width = literal ? 1 : 3;
            // One column stays free for the '=' of a soft break.
            if (_column + width > MaxLine - 1)
            {
                output.AddRange("=\r\n"u8);
                _column = 0;
            }
            // "\r\n--" is how a boundary delimiter begins: a '-' opening a line is escaped, so no content can end the part.
            if (_column == 0 && b == (byte)'-') literal = false;
            width = literal ? 1 : 3;
            if (literal) output.Add(b);
            else
            {
                output.Add((byte)'=');
                output.Add((byte)"0123456789ABCDEF"[b >> 4]);
                output.Add((byte)"0123456789ABCDEF"[b & 15]);
            }
            _column += width;
        }
    }
}
