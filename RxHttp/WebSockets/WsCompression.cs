using System.Runtime.InteropServices;

namespace RxHttp.WebSockets;

/// <summary>
/// P/Invoke into the zlib shim that ships with the .NET runtime (System.IO.Compression.Native). DeflateStream
/// cannot choose the window size, and RFC 7692's client_max_window_bits obliges us to compress with the
/// window the server asked for; the shim exposes deflateInit2/inflateInit2 and passes the flush mode through.
/// </summary>
internal static class ZlibNative
{
    // No "lib" prefix: the loader adds it (and .so/.dylib) on Unix, and the Windows file has none.
    private const string Lib = "System.IO.Compression.Native";

    public const int Z_NO_FLUSH = 0, Z_SYNC_FLUSH = 2;
    public const int Z_OK = 0, Z_STREAM_END = 1, Z_BUF_ERROR = -5;
    public const int Z_DEFLATED = 8, Z_DEFAULT_STRATEGY = 0, DefaultMemLevel = 8;

    /// <summary>PAL_ZStream from pal_zlib.h; the real z_stream lives in native memory behind InternalState.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public IntPtr NextIn;
        public IntPtr NextOut;
        public IntPtr Msg;
        public IntPtr InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    [DllImport(Lib, EntryPoint = "CompressionNative_DeflateInit2_")]
    public static extern int DeflateInit2(ref ZStream stream, int level, int method, int windowBits, int memLevel, int strategy);
    [DllImport(Lib, EntryPoint = "CompressionNative_Deflate")]
    public static extern int Deflate(ref ZStream stream, int flush);
    [DllImport(Lib, EntryPoint = "CompressionNative_DeflateEnd")]
    public static extern int DeflateEnd(ref ZStream stream);
    [DllImport(Lib, EntryPoint = "CompressionNative_InflateInit2_")]
    public static extern int InflateInit2(ref ZStream stream, int windowBits);
    [DllImport(Lib, EntryPoint = "CompressionNative_Inflate")]
    public static extern int Inflate(ref ZStream stream, int flush);
    [DllImport(Lib, EntryPoint = "CompressionNative_InflateEnd")]
    public static extern int InflateEnd(ref ZStream stream);

    public static string Describe(in ZStream z, int rc) =>
        z.Msg != IntPtr.Zero ? $"{Marshal.PtrToStringAnsi(z.Msg)} (zlib {rc})" : $"zlib error {rc}";
}

/// <summary>
/// Shared plumbing for the deflater and inflater: the native stream and a pinned staging buffer for input.
/// Input arrives as spans that cannot be pinned without unsafe code, so it is copied through a buffer on the
/// pinned object heap; output goes straight into the destination array, pinned for the duration of a call.
/// </summary>
internal abstract class ZlibStreamBase : IDisposable
{
    private const int StageSize = 16 * 1024;
    protected ZlibNative.ZStream Z;
    private readonly byte[] _stage = GC.AllocateUninitializedArray<byte>(StageSize, pinned: true);
    private readonly IntPtr _stagePtr;
    private bool _live;

    protected ZlibStreamBase() => _stagePtr = Marshal.UnsafeAddrOfPinnedArrayElement(_stage, 0);

    protected abstract int Init();
    protected abstract int End();
    protected abstract int Step(int flush);

    protected void Start()
    {
        Z = default;
        int rc = Init();
        if (rc != ZlibNative.Z_OK) throw new InvalidOperationException("zlib init failed: " + ZlibNative.Describe(Z, rc));
        _live = true;
    }

    /// <summary>Frees and re-creates the native stream: a context reset (no_context_takeover).</summary>
    protected void Restart()
    {
        Stop();
        Start();
    }

    private void Stop()
    {
        if (!_live) return;
        _live = false;
        End();
    }

    /// <summary>
    /// Pushes <paramref name="input"/> through the stream into <paramref name="output"/>. With
    /// <paramref name="maxOutput"/> &gt; 0 the output never grows past maxOutput + 1 bytes, so a
    /// decompression bomb is caught after producing one byte too many, not gigabytes.
    /// </summary>
    /// <returns>false when the output limit was exceeded.</returns>
    protected bool Run(ReadOnlySpan<byte> input, WsByteBuffer output, int flush, long maxOutput, Action? onStreamEnd = null)
    {
        ObjectDisposedException.ThrowIf(!_live, this);
        do
        {
            int n = Math.Min(input.Length, StageSize);
            input[..n].CopyTo(_stage);
            input = input[n..];
            Z.NextIn = _stagePtr;
            Z.AvailIn = (uint)n;
            int stepFlush = input.IsEmpty ? flush : ZlibNative.Z_NO_FLUSH;
            while (true)
            {
                output.EnsureFree(Math.Max(4096, n));
                int room = output.FreeCapacity;
                if (maxOutput > 0) room = (int)Math.Min(room, maxOutput + 1 - output.Length);
                var handle = GCHandle.Alloc(output.Array, GCHandleType.Pinned);
                int rc;
                try
                {
                    Z.NextOut = Marshal.UnsafeAddrOfPinnedArrayElement(output.Array, output.Length);
                    Z.AvailOut = (uint)room;
                    rc = Step(stepFlush);
                }
                finally
                {
                    handle.Free();
                }
                output.Advance(room - (int)Z.AvailOut);
                // Input and output pointers refer to pinned memory only for this call.
                Z.NextOut = IntPtr.Zero;
                if (maxOutput > 0 && output.Length > maxOutput) return false;
                if (rc == ZlibNative.Z_STREAM_END)
                {
                    if (onStreamEnd is null) throw new InvalidOperationException("Unexpected end of zlib stream.");
                    // A peer may end a message with a final block (RFC 7692 7.2.3.4); what follows starts anew.
                    uint left = Z.AvailIn;
                    IntPtr at = Z.NextIn;
                    onStreamEnd();
                    Z.NextIn = at;
                    Z.AvailIn = left;
                    if (left == 0) break;
                    continue;
                }
                if (rc == ZlibNative.Z_BUF_ERROR)
                {
                    // "No progress possible": it needs more room, or it has nothing left to do.
                    if (Z.AvailOut == 0) continue;
                    if (Z.AvailIn == 0) break;
                }
                if (rc < 0) throw new InvalidDataException(ZlibNative.Describe(Z, rc));
                // A flush is complete only when zlib left output space unused (zlib.h, deflate()).
                if (Z.AvailIn == 0 && Z.AvailOut > 0) break;
            }
        } while (!input.IsEmpty);
        Z.NextIn = IntPtr.Zero;
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stop();
        GC.SuppressFinalize(this);
    }

    ~ZlibStreamBase() => Stop();
}

/// <summary>
/// The sending half of permessage-deflate: raw deflate, SYNC_FLUSH per message, trailing 00 00 FF FF removed
/// (RFC 7692 section 7.2.1). Not thread-safe.
/// </summary>
internal sealed class WsDeflater : ZlibStreamBase
{
    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];
    private readonly int _windowBits;
    private readonly int _level;

    /// <summary>Creates a deflater.</summary>
    /// <param name="windowBits">LZ77 window, 9..15 (zlib cannot produce raw deflate with an 8-bit window).</param>
    /// <param name="noContextTakeover">Reset the window after every message (client_no_context_takeover).</param>
    /// <param name="level">zlib level 0..9, or -1 for zlib's default.</param>
    public WsDeflater(int windowBits = 15, bool noContextTakeover = false, int level = -1)
    {
        if (windowBits is < 9 or > 15) throw new ArgumentOutOfRangeException(nameof(windowBits), windowBits, "Deflate window bits must be 9..15.");
        if (level is < -1 or > 9) throw new ArgumentOutOfRangeException(nameof(level));
        _windowBits = windowBits;
        _level = level;
        NoContextTakeover = noContextTakeover;
        Start();
    }

    /// <summary>Whether the window is reset after every message.</summary>
    public bool NoContextTakeover { get; }

    protected override int Init() => ZlibNative.DeflateInit2(ref Z, _level, ZlibNative.Z_DEFLATED, -_windowBits, ZlibNative.DefaultMemLevel, ZlibNative.Z_DEFAULT_STRATEGY);
    protected override int End() => ZlibNative.DeflateEnd(ref Z);
    protected override int Step(int flush) => ZlibNative.Deflate(ref Z, flush);

    /// <summary>Appends the compressed form of one whole message to <paramref name="output"/>.</summary>
    public void CompressMessage(ReadOnlySpan<byte> message, WsByteBuffer output)
    {
        if (message.IsEmpty)
        {
            // zlib refuses a second sync flush with no new input (Z_BUF_ERROR, no output), so write the empty
            // stored block RFC 7692 7.2.3.6 uses; after the stripped marker it is the single byte 00.
            output.Write([0x00]);
            return;
        }
        int start = output.Length;
        Run(message, output, ZlibNative.Z_SYNC_FLUSH, 0);
        if (output.Length - start < 4 || !output.WrittenSpan[^4..].SequenceEqual(Tail))
            throw new InvalidOperationException("zlib did not end the message with a sync flush marker.");
        output.Truncate(4);
        if (NoContextTakeover) Restart();
    }
}

/// <summary>
/// The receiving half of permessage-deflate: feed each compressed frame payload as it arrives, then
/// <see cref="FinishMessage"/>. The window is always 15 bits because a larger inflate window accepts any
/// smaller deflate window, so server_max_window_bits never needs honouring here. Not thread-safe.
/// </summary>
internal sealed class WsInflater : ZlibStreamBase
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>Creates an inflater.</summary>
    /// <param name="noContextTakeover">Reset after every message (server_no_context_takeover). Keeping the
    /// window would be correct too; resetting just frees the peer's history sooner.</param>
    public WsInflater(bool noContextTakeover = false)
    {
        NoContextTakeover = noContextTakeover;
        Start();
    }

    /// <summary>Whether the window is reset after every message.</summary>
    public bool NoContextTakeover { get; }

    protected override int Init() => ZlibNative.InflateInit2(ref Z, -15);
    protected override int End() => ZlibNative.InflateEnd(ref Z);
    protected override int Step(int flush) => ZlibNative.Inflate(ref Z, flush);

    /// <summary>Inflates part of a message, appending to <paramref name="output"/>.</summary>
    /// <returns>false when <paramref name="output"/> would grow past <paramref name="maxOutput"/> (0 = no limit).</returns>
    /// <exception cref="InvalidDataException">The data is not valid deflate.</exception>
    public bool Inflate(ReadOnlySpan<byte> compressed, WsByteBuffer output, long maxOutput)
        => Run(compressed, output, ZlibNative.Z_SYNC_FLUSH, maxOutput, Restart);

    /// <summary>Ends a message: inflates the stripped 00 00 FF FF marker and applies no_context_takeover.</summary>
    public bool FinishMessage(WsByteBuffer output, long maxOutput)
    {
        bool ok = Run(Tail, output, ZlibNative.Z_SYNC_FLUSH, maxOutput, Restart);
        if (NoContextTakeover || !ok) Restart();
        return ok;
    }

    /// <summary>Drops any partial state, for example after a failed message.</summary>
    public void Reset() => Restart();
}
