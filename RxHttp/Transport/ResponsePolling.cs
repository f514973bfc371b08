using System.Diagnostics;
using System.Net.Sockets;

namespace RxHttp.Transport;

/// <summary>
/// Waiting for a response by polling the socket on the request's own thread, for a short window, instead of handing
/// the wait to the socket engine: on loopback, the epoll thread and the thread-pool dispatch of an engine read were
/// about 15% of a sequential round trip. Worth it only for a server that has been answering within the window.
/// </summary>
internal static class ResponsePolling
{
    /// <summary>What a poll found.</summary>
    public enum Outcome
    {
        /// <summary>Nothing within the window, or the socket failed: the read is left to the stream, which reports any error.</summary>
        Nothing,
        /// <summary>Readable, not received (TLS records only the stream can read; its read now finds them there).</summary>
        Readable,
        /// <summary>Bytes received into the buffer (0: EOF).</summary>
        Received,
    }

    /// <summary>The server's answer time as a moving average of <paramref name="sample"/>s (Stopwatch ticks; 0: none yet).</summary>
    public static long Average(long average, long sample) => average == 0 ? sample : (3 * average + sample) / 4;

    /// <summary>True when a server answering in <paramref name="answerTicks"/> (0: unknown) is worth polling for under <paramref name="windowTicks"/>.</summary>
    private static bool Worth(long windowTicks, long answerTicks) => windowTicks != 0 && answerTicks != 0 && answerTicks < windowTicks;

    /// <summary>Every how many lone requests one polls although the server's answer time says it is not worth it.</summary>
    public const int ProbeEvery = 16;

    /// <summary>
    /// Whether this lone request polls: when the server is <see cref="Worth"/> it, and every
    /// <see cref="ProbeEvery"/>th request otherwise (<paramref name="skipped"/> counts those that did not). An answer
    /// read through the socket engine is timed with the engine's dispatch in it: over TLS on loopback that was enough
    /// to keep a 40 µs server over the 64 µs window for good, once one slow answer had put it there. A probe that
    /// finds the answer within the window times it as it is.
    /// </summary>
    public static bool ShouldPoll(long windowTicks, long answerTicks, ref int skipped)
    {
        if (windowTicks == 0) return false;
        if (Worth(windowTicks, answerTicks) || (answerTicks != 0 && ++skipped >= ProbeEvery))
        {
            skipped = 0;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Polls <paramref name="socket"/> (also through <paramref name="lowWater"/>'s FIONREAD when its mark is raised)
    /// for up to <paramref name="windowTicks"/>; once readable, receives into
    /// <paramref name="destination"/> unless <paramref name="records"/> (TLS), without blocking: bytes or EOF are there.
    /// </summary>
    public static Outcome Wait(Socket socket, LowWaterStream? lowWater, Span<byte> destination, bool records, long windowTicks, CancellationToken ct, out int received)
    {
        received = 0;
        try
        {
            var start = Stopwatch.GetTimestamp();
            do
            {
                if (!LowWaterStream.HasInput(socket, lowWater)) continue;
                if (records) return Outcome.Readable;
                received = socket.Receive(destination, SocketFlags.None, out var error);
                // An error is the socket engine's read's to report, mapped as usual.
                return error == SocketError.Success ? Outcome.Received : Outcome.Nothing;
            } while (Stopwatch.GetTimestamp() - start < windowTicks && !ct.IsCancellationRequested);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed or aborted meanwhile: the stream's read fails with the reason.
        }
        return Outcome.Nothing;
    }
}
