namespace RxHttp;

/// <summary>
/// Undoing a received part's Content-Transfer-Encoding, then its Content-Encoding, as aiohttp's
/// <c>BodyPartReader.decode()</c> does for <c>text()</c> and <c>json()</c>. HTTP itself never sets a transfer
/// encoding on a part (RFC 7578 §4.7 deprecates it), but MIME producers (mail gateways, AS2, batch APIs) do.
/// </summary>
internal static class PartDecoding
{
    public static byte[] Decode(HeaderCollection headers, byte[] content, bool contentEncoding, int maxDecoded)
    {
        var data = content;
        if (headers.Get("Content-Transfer-Encoding") is { } transfer)
        {
            data = transfer.Trim().ToLowerInvariant() switch
            {
                "" or "7bit" or "8bit" or "binary" => data,
                "base64" => Base64(data),
                "quoted-printable" => QuotedPrintable(data),
                var other => throw new ClientPayloadError($"Unknown Content-Transfer-Encoding of a part: {other}"),
            };
        }
        // RFC 7578 §4.8: form-data parts carry no Content-Encoding of their own; aiohttp leaves it alone there too.
        if (contentEncoding && headers.Get("Content-Encoding") is { } coding)
        {
            data = coding.Trim().ToLowerInvariant() switch
            {
                "" or "identity" => data,
                // The response's own decoders, so that a part cut short inside its compressed stream fails as
                // aiohttp's zlib.decompress does, instead of decoding to a shorter part.
                "gzip" or "x-gzip" or "deflate" => Inflate(Decompression.Wrap(coding, new MemoryStream(data))!, coding, maxDecoded),
                var other => throw new ClientPayloadError($"Unknown Content-Encoding of a part: {other}"),
            };
        }
        return data;
    }

    private static byte[] Base64(byte[] data)
    {
        // Line breaks and spaces are skipped, as MIME wraps base64 at 76 characters.
        try
        {
            return Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(data));
        }
        catch (FormatException e)
        {
            throw new ClientPayloadError("A part's base64 content is malformed.", e);
        }
    }

    /// <summary>RFC 2045 §6.7: <c>=XX</c> is a byte, <c>=</c> at a line's end a soft break; a malformed <c>=</c> is kept as is (robustness rule 1).</summary>
    internal static byte[] QuotedPrintable(ReadOnlySpan<byte> data)
    {
        var output = new byte[data.Length];
        var n = 0;
        for (var i = 0; i < data.Length; i++)
        {
            var b = data[i];
            if (b != (byte)'=')
            {
                output[n++] = b;
                continue;
            }
            if (i + 2 < data.Length && data[i + 1] == (byte)'\r' && data[i + 2] == (byte)'\n') { i += 2; continue; }
            if (i + 1 < data.Length && data[i + 1] == (byte)'\n') { i += 1; continue; }
            if (i + 2 < data.Length && HexValue(data[i + 1]) is var hi and >= 0 && HexValue(data[i + 2]) is var lo and >= 0)
            {
                output[n++] = (byte)(hi << 4 | lo);
                i += 2;
                continue;
            }
            output[n++] = b;
        }
        return output[..n];
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };

    // Bounded as aiohttp's max_decompress_size: a few KB of deflate can expand to gigabytes.
    private static byte[] Inflate(Stream decoder, string coding, int maxDecoded)
    {
        try
        {
            using (decoder)
            {
                using var output = new MemoryStream();
                var buffer = new byte[16 * 1024];
                int n;
                while ((n = decoder.Read(buffer)) > 0)
                {
                    if (output.Length + n > maxDecoded) throw new ClientPayloadError($"A part's {coding} content decodes to more than {maxDecoded} bytes.");
                    output.Write(buffer, 0, n);
                }
                return output.ToArray();
            }
        }
        // zlib's own errors (ZLibException, an IOException) too, as the response's decoding takes them.
        catch (Exception e) when (DecodeErrors.IsDecoderFailure(e))
        {
            throw new ClientPayloadError($"A part's {coding} content cannot be decoded.", e);
        }
    }
}
