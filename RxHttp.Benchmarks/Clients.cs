using System.Diagnostics;

namespace RxHttp.Benchmarks;

/// <summary>What one side measures. Every method runs one measurement and returns its figure.</summary>
internal interface IClientSide : IAsyncDisposable
{
    string Name { get; }
    Task<double> SequentialAsync(TimeSpan duration);
    Task<double> ConcurrentAsync(TimeSpan duration, int workers);
    /// <summary>
    /// MB/s of a streamed download. <paramref name="ownedChunks"/>: every chunk is memory the reader may keep (a fresh
    /// array per chunk or read); else chunks are borrowed from one reused buffer.
    /// </summary>
    Task<double> DownloadAsync(long expected, bool ownedChunks);
    Task<double> UploadAsync(long size);
    /// <summary>Bytes allocated in the whole process per sequential request (server allocations included).</summary>
    Task<double> AllocationsAsync(int requests);
    /// <summary>Messages per second, or null when this side has no websocket client yet.</summary>
    Task<double?> WebSocketEchoAsync(TimeSpan duration);
}

internal static class Measure
{
    public const int ChunkSize = 64 * 1024;

    /// <summary>How long both clients' pools keep an idle connection: HttpClient's default, set on both sides.</summary>
    public static readonly TimeSpan PoolIdleTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The size of RxHttp's <c>BorrowedContent</c> chunks, which the other clients' reused buffers match.</summary>
    public const int BorrowedChunkSize = ClientResponse.BorrowedChunkSize;

    // Shared upload source: both clients send the same bytes from the same buffer, so neither pays to produce data.
    public static readonly byte[] UploadBlock = CreateBlock();

    private static byte[] CreateBlock()
    {
        var b = new byte[ChunkSize];
        new Random(7).NextBytes(b);
        return b;
    }

    /// <summary>Whether <see cref="BetweenSides"/> collects (the run's <c>--gc-between</c>).</summary>
    public static bool CollectBetweenSides { get; set; }

    /// <summary>
    /// Before each side's turn in a round: a blocking full collection, so no side inherits the garbage of the side
    /// before it (a 256 MiB transfer through fresh arrays leaves hundreds of MiB, and the 1 MiB bodies of 3r land
    /// on the large-object heap, whose budget brings full collections to whichever side happens to cross it).
    /// </summary>
    public static void BetweenSides()
    {
        if (CollectBetweenSides) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>
    /// One round of interleaved sides: <paramref name="slices"/> passes over the <paramref name="sides"/>, the order
    /// reversed from one pass to the next and between rounds (A B C, then C B A), so each side goes before each other
    /// side equally often; returns the mean figure per side.
    /// </summary>
    public static async Task<double[]> AlternatingAsync(int sides, int slices, int round, Func<int, Task<double>> run)
    {
        var sums = new double[sides];
        for (var i = 0; i < slices; i++)
        {
            for (var k = 0; k < sides; k++)
            {
                var j = (round + i) % 2 == 1 ? sides - 1 - k : k;
                BetweenSides();
                sums[j] += await run(j).ConfigureAwait(false);
            }
        }
        for (var j = 0; j < sides; j++) sums[j] /= slices;
        return sums;
    }

    public static double MBps(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;

    public static async Task<double> TimedLoopAsync(TimeSpan duration, Func<Task> one)
    {
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed < duration)
        {
            await one().ConfigureAwait(false);
            n++;
        }
        return n / sw.Elapsed.TotalSeconds;
    }

    public static async Task<double> ConcurrentLoopAsync(TimeSpan duration, int workers, Func<Task> one)
    {
        long n = 0;
        var sw = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed < duration)
            {
                await one().ConfigureAwait(false);
                Interlocked.Increment(ref n);
            }
        })).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return Interlocked.Read(ref n) / sw.Elapsed.TotalSeconds;
    }

    public static async Task<double> AllocatedPerCallAsync(int count, Func<Task> one)
    {
        // Settle first so a collection in the middle does not matter: allocation counters are cumulative anyway.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < count; i++) await one().ConfigureAwait(false);
        var after = GC.GetTotalAllocatedBytes(precise: true);
        return (after - before) / (double)count;
    }
}
