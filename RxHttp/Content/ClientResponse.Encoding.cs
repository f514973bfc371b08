using System.Text;
using System.Text.Unicode;

namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>The session's <see cref="ClientSessionOptions.FallbackCharsetResolver"/>, kept only when there is one.</summary>
    internal Func<ClientResponse, ReadOnlyMemory<byte>, Encoding>? CharsetResolver
    {
        get => _extras?.CharsetResolver;
        init
        {
            if (value is not null) GetExtras().CharsetResolver = value;
        }
    }

    /// <summary>
    /// The encoding <see cref="Text"/> decodes with (aiohttp's <c>get_encoding()</c>): the charset of Content-Type when
    /// it names a known one; UTF-8 for <c>application/json</c> and <c>application/rdap+json</c> (RFC 8259); otherwise
    /// UTF-8 when the body is valid UTF-8, or what <see cref="ClientSessionOptions.FallbackCharsetResolver"/> picks for a
    /// body that is not (UTF-8 when there is no resolver; <c>Text()</c> then fails with <see cref="TextDecodeError"/>).
    /// A body read already that starts with a byte order mark (UTF-8, UTF-16 or UTF-32, either order) is in the mark's encoding,
    /// whatever the charset says, as browsers and HttpClient decode it; <c>Text()</c> and <c>Json&lt;T&gt;()</c>
    /// leave the mark out.
    /// </summary>
    /// <exception cref="InvalidOperationException">The answer depends on the body (no charset, a resolver is set) and it
    /// was not read yet (aiohttp raises the same): read it with <see cref="Read"/> or <see cref="Text"/> first.</exception>
    public Encoding GetEncoding()
    {
        if (_cached is { } read && ByteOrderMark.Sniff(read, out _) is { } marked) return marked is UTF8Encoding ? Encoding.UTF8 : marked;
        if (DeclaredEncoding() is { } declared) return declared;
        if (CharsetResolver is null) return Encoding.UTF8;
        if (_cached is not { } body)
        {
            if (_extras?.CachedText is not null) return Encoding.UTF8;
            throw new InvalidOperationException("Cannot compute the fallback encoding of a body not yet read: call Read() or Text() first.");
        }
        return Utf8.IsValid(body) ? Encoding.UTF8 : Resolve(body) ?? Encoding.UTF8;
    }

    // The charset of Content-Type when it is a known one; UTF-8 for JSON media types; null when the body decides.
    private Encoding? DeclaredEncoding() => DeclaredEncoding(out _);

    // As above; unknownCharset: the charset the Content-Type names when no table knows it (for an error's message).
    private Encoding? DeclaredEncoding(out string? unknownCharset)
    {
        ContentTypeHeader.Parse(Headers.Get("Content-Type"), out var type, out var charset);
        unknownCharset = null;
        if (charset is not null)
        {
            if (charset == "utf-8") return Encoding.UTF8;
            if (ContentTypeHeader.EncodingNamed(charset) is { } named) return named;
            // Unknown: aiohttp ignores it and falls through to the rules below.
            unknownCharset = charset;
        }
        return type is "application/json" or "application/rdap+json" ? Encoding.UTF8 : null;
    }

    // The resolver's answer for a body that is not UTF-8 (the user's exceptions pass through as they are).
    private Encoding? Resolve(byte[] body) => CharsetResolver?.Invoke(this, body);

    /// <summary>
    /// Text() without an explicit encoding: a byte order mark's encoding, else UTF-8 strictly, else the declared
    /// charset, else the resolver's.
    /// </summary>
    private string DecodeText(byte[] body)
    {
        if (ByteOrderMark.Sniff(body, out var mark) is { } marked)
        {
            var text = body.AsSpan(mark);
            if (marked is not UTF8Encoding) return marked.GetString(text);
            return Utf8.IsValid(text) ? Encoding.UTF8.GetString(text) : throw TextDecodeError.Utf8AfterMark(body);
        }
        var declared = DeclaredEncoding(out var unknownCharset);
        if (declared is not null and not UTF8Encoding) return declared.GetString(body);
        if (Utf8.IsValid(body)) return Encoding.UTF8.GetString(body);
        if (declared is null && Resolve(body) is { } resolved) return resolved.GetString(body);
        throw TextDecodeError.Utf8(body, declared is not null, unknownCharset: declared is null ? unknownCharset : null);
    }

    /// <summary>Text(encoding): the caller's encoding, without a leading mark of that encoding.</summary>
    private static string DecodeAs(byte[] body, Encoding encoding) => encoding.GetString(body.AsSpan(ByteOrderMark.LengthFor(body, encoding)));

    /// <summary>
    /// The body as UTF-8 for the JSON reader, without a byte order mark (RFC 8259 lets a parser ignore one, and
    /// System.Text.Json's span reader does not): transcoded from a marked, declared or resolved other encoding.
    /// </summary>
    private ReadOnlySpan<byte> JsonUtf8(byte[] body)
    {
        if (ByteOrderMark.Sniff(body, out var mark) is { } marked)
            return marked is UTF8Encoding ? body.AsSpan(mark) : Encoding.UTF8.GetBytes(marked.GetString(body.AsSpan(mark)));
        var declared = DeclaredEncoding();
        if (declared is not null and not UTF8Encoding) return Encoding.UTF8.GetBytes(declared.GetString(body));
        // Invalid UTF-8 with a UTF-8 charset is left to the JSON reader, which reports it as invalid JSON.
        if (declared is null && !Utf8.IsValid(body) && Resolve(body) is { } resolved) return Encoding.UTF8.GetBytes(resolved.GetString(body));
        return body;
    }

    /// <summary>The encoding Lines() decodes with when given none: the declared charset, else strict UTF-8.</summary>
    private Encoding LinesEncoding() => DeclaredEncoding() is { } declared and not UTF8Encoding ? declared : StrictEncodings.Utf8;

    // The encoding of a charset parameter; UTF-8 when there is none or it is unknown (aiohttp falls back too).
    internal static Encoding EncodingOf(string? charset) =>
        charset is not null && ContentTypeHeader.EncodingNamed(charset) is { } named ? named : Encoding.UTF8;
}
