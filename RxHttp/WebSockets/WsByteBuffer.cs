using System.Buffers;

namespace RxHttp.WebSockets;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>: the message assembly and frame
/// encoding scratch space, reused across messages so steady traffic does not allocate per frame.
/// </summary>
internal sealed class WsByteBuffer : IBufferWriter<byte>, IDisposable
{
    // Above this a finished message's buffer goes back to the pool, so one huge message does not pin
    // megabytes for the rest of the connection.
    private const int KeepCapacity = 64 * 1024;
    private byte[] _array;

    /// <summary>Creates an empty buffer.</summary>
    public WsByteBuffer(int initialCapacity = 256) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>The backing array; its address changes when the buffer grows.</summary>
    public byte[] Array => _array;
    /// <summary>Count of bytes written.</summary>
    public int Length { get; private set; }
    /// <summary>The written bytes.</summary>
    public Span<byte> WrittenSpan => _array.AsSpan(0, Length);
    /// <summary>The written bytes.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Length);
    /// <summary>Free bytes after <see cref="Length"/>.</summary>
    public int FreeCapacity => _array.Length - Length;

    /// <summary>Ensures at least <paramref name="size"/> free bytes.</summary>
    public void EnsureFree(int size)
    {
        if (FreeCapacity >= size) return;
        long want = Math.Max((long)Length + size, (long)_array.Length * 2);
        int newSize = (int)Math.Min(want, System.Array.MaxLength);
        if (newSize - Length < size) throw new OutOfMemoryException("A websocket buffer cannot grow past 2 GiB.");
        var bigger = ArrayPool<byte>.Shared.Rent(newSize);
        _array.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        EnsureFree(data.Length);
        data.CopyTo(_array.AsSpan(Length));
        Length += data.Length;
    }

    /// <inheritdoc/>
    public void Advance(int count)
    {
        if ((uint)count > (uint)FreeCapacity) throw new ArgumentOutOfRangeException(nameof(count));
        Length += count;
    }

    /// <summary>Drops the last <paramref name="count"/> bytes.</summary>
    public void Truncate(int count) => Length -= Math.Min(count, Length);

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureFree(Math.Max(sizeHint, 1));
        return _array.AsMemory(Length);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureFree(Math.Max(sizeHint, 1));
        return _array.AsSpan(Length);
    }

    /// <summary>Empties the buffer, giving an oversized array back to the pool.</summary>
    public void Clear()
    {
        Length = 0;
        if (_array.Length > KeepCapacity)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = ArrayPool<byte>.Shared.Rent(256);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        var a = _array;
        _array = System.Array.Empty<byte>();
        Length = 0;
        if (a.Length > 0) ArrayPool<byte>.Shared.Return(a);
    }
}
