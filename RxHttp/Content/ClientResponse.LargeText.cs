using System.Buffers;
using System.Text;

namespace RxHttp;

public sealed partial class ClientResponse
{
    // Below this a body usually came with the head, and its array is small.
    private const int LargeTextMin = 64 * 1024;

    /// <summary>
    /// <c>Text()</c> of a large UTF-8 body of known length, not read yet: the bytes go into a pooled buffer and only the
    /// string is allocated (as HttpClient's GetStringAsync), rather than an array of the body's length and the string.
    /// The string is cached; valid UTF-8 re-encodes to the same bytes, so a later <c>Read()</c> gets them back
    /// exactly. A body that is not valid UTF-8 caches its bytes instead. Null: the usual path applies.
    /// </summary>
    /// <summary>Whether an array of the body is cached (tests: a large UTF-8 Text() keeps only its string).</summary>
    internal bool HoldsBodyBytes => _cached is not null;

    // A null encoding is Text()'s own choice: strict UTF-8 (or the resolver's) when no other charset is declared.
    private ValueTask<string>? TryLargeText(Encoding? encoding, CancellationToken ct)
    {
        if (encoding is null ? DeclaredEncoding() is not (null or UTF8Encoding) : encoding is not UTF8Encoding) return null;
        if (_extras?.CachedText is { } cached) return new ValueTask<string>(cached);
        if (_cached is not null || Decoded is not null || _body is not { IsDone: false } body) return null;
        if (body.RemainingLength is not { } len) return ReadUnknownLengthTextAsync(encoding, ct);
        if (len is < LargeTextMin or > int.MaxValue) return null;
        return ReadLargeTextAsync(encoding, (int)len, ct);
    }

    // A chunked (or until-close) body: read into pooled segments and decoded straight from them, so the string is
    // the only allocation of the body's size (before, an exact array of the body, kept, and the string; the array
    // on the large object heap too, which brings full collections sooner).
    private async ValueTask<string> ReadUnknownLengthTextAsync(Encoding? encoding, CancellationToken ct)
    {
        BeginConsume();
        try
        {
            var (text, bytes) = await BodyBuffer.ReadToEndAsync(ReadAsync, MaxBodySize, int.MaxValue,
                static body => !body.StartsWithMark && body.TryUtf8() is { } t ? (t, (byte[]?)null) : (null, body.ToArray()), ct).ConfigureAwait(false);
            if (text is not null)
            {
                GetExtras().CachedText = text;
                return text;
            }
            _cached = bytes!;
            return Decode(_cached, encoding);
        }
        catch
        {
            Abort();
            throw;
        }
    }

    private async ValueTask<string> ReadLargeTextAsync(Encoding? encoding, int length, CancellationToken ct)
    {
        BodySizeLimit.CheckAnnounced(MaxBodySize, length);
        BeginConsume();
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var got = 0;
            while (got < length)
            {
                var n = await _body!.ReadAsync(buffer.AsMemory(got, length - got), ct).ConfigureAwait(false);
                if (n == 0) break;
                TraceChunk(n);
                got += n;
            }
            if (got < length) throw new ClientPayloadError("Response payload is not completed.");
            var bytes = buffer.AsSpan(0, length);
            // A marked body caches its bytes too: its text lacks the mark, so re-encoding it would not give them back.
            if (!System.Text.Unicode.Utf8.IsValid(bytes) || ByteOrderMark.Sniff(bytes, out _) is not null)
            {
                _cached = bytes.ToArray();
                return Decode(_cached, encoding);
            }
            var text = Encoding.UTF8.GetString(bytes);
            GetExtras().CachedText = text;
            return text;
        }
        catch
        {
            Abort();
            throw;
        }
        finally
        {
            // Every read into it has ended (each was awaited), so the buffer is nobody's now.
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
