using System.Buffers;
using System.Text;

namespace RxHttp;

/// <summary>
/// Reads a body of unknown length (chunked, until close, decompressed) to its end into one exact array: the bytes
/// are read into pooled segments of growing size and copied once into the result, so a body costs one allocation of
/// its own length (a growing MemoryStream copied it at each doubling and once more in ToArray).
/// </summary>
internal static class BodyBuffer
{
    private const int FirstSegment = 64 * 1024;
    private const int LargestSegment = 1 << 20;

    /// <summary>
    /// Reads through <paramref name="read"/> (at most <paramref name="maxRead"/> bytes a call) until it returns 0; more
    /// than <paramref name="limit"/> bytes (0: no limit) fails with <see cref="ClientPayloadTooLargeError"/>.
    /// </summary>
    public static ValueTask<byte[]> ReadToEndAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, long limit, int maxRead, CancellationToken ct) =>
        ReadToEndAsync(read, limit, maxRead, static body => body.ToArray(), ct);

    /// <summary>
    /// As <see cref="ReadToEndAsync(Func{Memory{byte}, CancellationToken, ValueTask{int}}, long, int, CancellationToken)"/>,
    /// handing the bytes read to <paramref name="finish"/> while the pooled segments still hold them (a string
    /// decoded straight from them needs no array of the body).
    /// </summary>
    public static async ValueTask<T> ReadToEndAsync<T>(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, long limit, int maxRead, Func<Segments, T> finish, CancellationToken ct)
    {
        var segments = new List<(byte[] Array, int Count)>();
        byte[]? current = ArrayPool<byte>.Shared.Rent(FirstSegment);
        var filled = 0;
        long total = 0;
        try
        {
            while (true)
            {
                if (filled == current.Length)
                {
                    segments.Add((current, filled));
                    current = ArrayPool<byte>.Shared.Rent(Math.Min(LargestSegment, current.Length * 2));
                    filled = 0;
                }
                var n = await read(current.AsMemory(filled, Math.Min(current.Length - filled, maxRead)), ct).ConfigureAwait(false);
                if (n == 0) break;
                filled += n;
                total += n;
                BodySizeLimit.CheckCount(limit, total);
                if (total > Array.MaxLength) throw new ClientPayloadTooLargeError(Array.MaxLength);
            }
            segments.Add((current, filled));
            current = null; // returned with the segments
            return finish(new Segments(segments, (int)total));
        }
        finally
        {
            foreach (var (array, _) in segments) ArrayPool<byte>.Shared.Return(array);
            if (current is not null) ArrayPool<byte>.Shared.Return(current);
        }
    }

    /// <summary>A body read to its end into pooled segments, valid only inside the finishing callback.</summary>
    public readonly struct Segments(List<(byte[] Array, int Count)> parts, int length)
    {
        /// <summary>The body's length.</summary>
        public int Length => length;

        /// <summary>Whether the body starts with a byte order mark (all in the first segment, which is filled first).</summary>
        public bool StartsWithMark => ByteOrderMark.Sniff(parts[0].Array.AsSpan(0, parts[0].Count), out _) is not null;

        /// <summary>The body in one exact array.</summary>
        public byte[] ToArray()
        {
            if (length == 0) return Array.Empty<byte>();
            var result = GC.AllocateUninitializedArray<byte>(length);
            var at = 0;
            foreach (var (array, count) in parts)
            {
                array.AsSpan(0, count).CopyTo(result.AsSpan(at));
                at += count;
            }
            return result;
        }

        /// <summary>
        /// The body decoded as strict UTF-8 straight from the segments (one string, no array of the body); null when it
        /// is not valid UTF-8. A BOM is kept, as <c>Encoding.UTF8.GetString</c> keeps it (Text() does not come here for a marked body).
        /// </summary>
        public string? TryUtf8()
        {
            var decoder = StrictEncodings.Utf8.GetDecoder();
            try
            {
                // Counted by decoding into a small scratch buffer: a decoder only carries a sequence split between two
                // segments across calls that convert, not across GetCharCount calls.
                Span<char> scratch = stackalloc char[1024];
                long chars = 0;
                for (var i = 0; i < parts.Count; i++)
                {
                    ReadOnlySpan<byte> bytes = parts[i].Array.AsSpan(0, parts[i].Count);
                    bool completed;
                    do
                    {
                        decoder.Convert(bytes, scratch, flush: i == parts.Count - 1, out var used, out var produced, out completed);
                        chars += produced;
                        bytes = bytes[used..];
                    }
                    while (!completed);
                }
                decoder.Reset();
                return string.Create((int)chars, (Parts: parts, Decoder: decoder), static (span, s) =>
                {
                    var at = 0;
                    for (var i = 0; i < s.Parts.Count; i++)
                        at += s.Decoder.GetChars(s.Parts[i].Array.AsSpan(0, s.Parts[i].Count), span[at..], flush: i == s.Parts.Count - 1);
                });
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }
    }
}
