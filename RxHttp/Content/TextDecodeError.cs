namespace RxHttp;

/// <summary>
/// The body is not valid in the encoding it was decoded with: what aiohttp's strict <c>text()</c> raises as
/// <c>UnicodeDecodeError</c>. A <see cref="ClientPayloadError"/>, not a <see cref="ClientResponseError"/>: the status
/// and headers were fine, the body's bytes are what is wrong, as with a corrupt gzip body; one
/// <c>catch (ClientPayloadError)</c> covers every body that cannot be read. Set
/// <see cref="ClientSessionOptions.FallbackCharsetResolver"/> to pick an encoding for bodies without a charset, or pass
/// one to <c>Text(encoding)</c>.
/// </summary>
public class TextDecodeError : ClientPayloadError
{
    /// <summary>Creates the error.</summary>
    public TextDecodeError(string encoding, long offset, string message, Exception? inner = null) : base(message, inner)
    {
        Encoding = encoding;
        Offset = offset;
    }

    /// <summary>The name of the encoding the body did not decode in ("utf-8").</summary>
    public string Encoding { get; }

    /// <summary>The offset in the (decompressed) body of the first byte that is not valid, or -1 when unknown.</summary>
    public long Offset { get; }

    internal static TextDecodeError Utf8(ReadOnlySpan<byte> body, bool declared, string what = "body",
        string advice = "set ClientSessionOptions.FallbackCharsetResolver, or pass an encoding to Text()", string? unknownCharset = null)
    {
        var offset = FirstInvalidUtf8(body);
        // An unknown charset is treated as none (as aiohttp does), but the message says which name was not known.
        var names = unknownCharset is null ? "names no charset" : $"names a charset that is not known ('{unknownCharset}')";
        return new TextDecodeError("utf-8", offset, declared
            ? $"The {what} is not valid UTF-8 as its Content-Type declares (first invalid byte at offset {offset})."
            : $"The {what} is not valid UTF-8 and its Content-Type {names} (first invalid byte at offset {offset}): {advice}.");
    }

    internal static TextDecodeError Utf8AfterMark(ReadOnlySpan<byte> body)
    {
        var offset = FirstInvalidUtf8(body);
        return new TextDecodeError("utf-8", offset, $"The body is not valid UTF-8 as its byte order mark declares (first invalid byte at offset {offset}).");
    }

    internal static long FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        var offset = 0L;
        while (!body.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(body, out _, out var consumed);
            if (status != System.Buffers.OperationStatus.Done) return offset;
            body = body[consumed..];
            offset += consumed;
        }
        return -1;
    }
}
