using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace RxHttp.WebSockets;

/// <summary>RFC 6455 section 5.3 masking: XOR with a repeating 4-byte key, vectorised.</summary>
internal static class WsMask
{
    /// <summary>
    /// XORs <paramref name="source"/> with <paramref name="key"/> into <paramref name="destination"/> (which
    /// may be the same memory). <paramref name="phase"/> is the position in the key of the first byte, so a
    /// payload can be masked in pieces: pass the count of bytes already processed.
    /// </summary>
    public static void Apply(ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> key, long phase = 0)
    {
        if (key.Length != 4) throw new ArgumentException("A mask key is 4 bytes.", nameof(key));
        if (destination.Length < source.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        int n = source.Length;
        int p = (int)(phase & 3);
        int i = 0;
        if (n >= 8)
        {
            // Vector<byte>.Count and 8 are multiples of 4, so one rotated pattern stays in phase for every block.
            Span<byte> pattern = stackalloc byte[Math.Max(Vector<byte>.Count, 8)];
            for (int j = 0; j < pattern.Length; j++) pattern[j] = key[(j + p) & 3];
            ref byte src = ref MemoryMarshal.GetReference(source);
            ref byte dst = ref MemoryMarshal.GetReference(destination);
            if (Vector.IsHardwareAccelerated && n >= Vector<byte>.Count)
            {
                var mask = new Vector<byte>(pattern);
                for (int last = n - Vector<byte>.Count; i <= last; i += Vector<byte>.Count)
                    (Vector.LoadUnsafe(ref src, (nuint)i) ^ mask).StoreUnsafe(ref dst, (nuint)i);
            }
            ulong mask64 = MemoryMarshal.Read<ulong>(pattern);
            for (; i <= n - 8; i += 8)
                MemoryMarshal.Write(destination.Slice(i), MemoryMarshal.Read<ulong>(source.Slice(i)) ^ mask64);
        }
        for (; i < n; i++) destination[i] = (byte)(source[i] ^ key[(i + p) & 3]);
    }

    /// <summary>Masks <paramref name="data"/> in place.</summary>
    public static void Apply(Span<byte> data, ReadOnlySpan<byte> key, long phase = 0) => Apply(data, data, key, phase);
}

/// <summary>
/// Hands out fresh mask keys. Keys must be unpredictable to the application (RFC 6455 section 10.3), so they
/// come from the OS CSPRNG, fetched in batches because one syscall per frame would dominate small sends.
/// Not thread-safe: one per writer.
/// </summary>
internal sealed class WsMaskKeySource
{
    private readonly byte[] _pool = new byte[256];
    private int _next = 256;

    /// <summary>Writes the next 4-byte key into <paramref name="key"/>.</summary>
    public void Next(Span<byte> key)
    {
        if (_next == _pool.Length)
        {
            RandomNumberGenerator.Fill(_pool);
            _next = 0;
        }
        _pool.AsSpan(_next, 4).CopyTo(key);
        _next += 4;
    }
}
