using System.Buffers;

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
    public static async ValueTask<byte[]> ReadToEndAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, long limit, int maxRead, CancellationToken ct)
    {
        var segments = new List<(byte[] Array, int Count)>();
        var current = ArrayPool<byte>.Shared.Rent(FirstSegment);
        var filled = 0;
        long total = 0;
        try
        {
            while (true)
            {
                if (filled == current.Length)
                {
                    segments.Add((current, filled));
                    var next = ArrayPool<byte>.Shared.Rent(Math.Min(LargestSegment, current.Length * 2));
                    current = next;
                    filled = 0;
                }
                var n = await read(current.AsMemory(filled, Math.Min(current.Length - filled, maxRead)), ct).ConfigureAwait(false);
                if (n == 0) break;
                filled += n;
                total += n;
                BodySizeLimit.CheckCount(limit, total);
                if (total > Array.MaxLength) throw new ClientPayloadTooLargeError(Array.MaxLength);
            }
            if (total == 0) return Array.Empty<byte>();
            var result = GC.AllocateUninitializedArray<byte>((int)total);
            var at = 0;
            foreach (var (array, count) in segments)
            {
                array.AsSpan(0, count).CopyTo(result.AsSpan(at));
                at += count;
            }
            current.AsSpan(0, filled).CopyTo(result.AsSpan(at));
            return result;
        }
        finally
        {
            foreach (var (array, _) in segments) ArrayPool<byte>.Shared.Return(array);
            ArrayPool<byte>.Shared.Return(current);
        }
    }
}
