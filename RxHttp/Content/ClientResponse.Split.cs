using System.Runtime.CompilerServices;

namespace RxHttp;

/// <summary>A push parser over a body's bytes (lines, multipart parts): bytes in as they arrive, items out as they complete.</summary>
internal interface IBodySplitter<T>
{
    void Push(ReadOnlySpan<byte> bytes, List<T> output);

    /// <summary>The body ended: hands out what it still held, or throws when the body was cut short.</summary>
    void Complete(List<T> output);
}

public sealed partial class ClientResponse
{
    // Feeds the body (or the cached one) through a splitter; stopping early closes the connection, as IterChunked does.
    // A positive limit counts the body's (inflated) bytes against it, for splitters whose items the caller keeps whole.
    private async IAsyncEnumerable<T> IterSplit<T>(IBodySplitter<T> splitter, long limit, [EnumeratorCancellation] CancellationToken ct)
    {
        var items = new List<T>();
        if (CachedBody is { } cached)
        {
            splitter.Push(cached, items);
            splitter.Complete(items);
            foreach (var item in items) yield return item;
            yield break;
        }
        BeginConsume();
        long total = 0;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        var completed = false;
        try
        {
            if (Decoded is null && _body?.RemainingLength is { } announced) BodySizeLimit.CheckAnnounced(limit, announced);
            while (true)
            {
                var n = await ReadAsync(buffer, ct).ConfigureAwait(false);
                BodySizeLimit.CheckCount(limit, total += n);
                if (n == 0) splitter.Complete(items);
                else splitter.Push(buffer.AsSpan(0, n), items);
                foreach (var item in items) yield return item;
                items.Clear();
                if (n == 0) break;
            }
            completed = true;
        }
        finally
        {
            if (!completed) StopReading();
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
