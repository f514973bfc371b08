using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;

namespace RxHttp.Soak;

/// <summary>
/// One hostile response read in this process, reporting how it ended and the peak resident memory it cost, so a
/// test can run it in a child process and check the bound without timing anything. Output, one line:
/// <c>outcome=&lt;type&gt; inflated=&lt;bytes&gt; wire=&lt;bytes&gt; peak_delta=&lt;bytes&gt; peak_reset=&lt;bool&gt;</c>.
/// </summary>
public static class BoundsProbe
{
    public const long GiB = 1L << 30;
    public const long MiB = 1L << 20;

    /// <summary>The scenarios, by name.</summary>
    public static readonly string[] Scenarios = ["bomb-read", "bomb-stream", "header-flood", "long-status", "long-header"];

    public static async Task<int> RunAsync(string scenario, long maxBodySize)
    {
        var bomb = GzipZeros(GiB);
        using var server = new ScriptedServer((path, stream) => Answer(path, stream, bomb));
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = maxBodySize });

        // Warm up every code path first (JIT, pools, the socket engine) so the peak below is the scenario's own.
        var warm = await session.Get(server.Url("/small-gzip")).SelectMany(r => r.Read()).FirstAsync();
        if (warm.Length != 1000) throw new InvalidOperationException("warm-up read failed");
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var reset = ProcessFigures.ResetPeak();
        var before = reset ? ProcessFigures.StatusBytes("VmRSS") : ProcessFigures.StatusBytes("VmHWM");

        string outcome;
        long inflated = 0, wire = 0;
        try
        {
            var response = await session.Get(server.Url("/" + scenario)).FirstAsync();
            using var _ = response.DownloadProgress.Subscribe(p => wire = p.Bytes);
            if (scenario == "bomb-stream")
                await response.BorrowedContent.ForEachAsync(chunk => inflated += chunk.Length);
            else
                inflated = (await response.Read().FirstAsync()).Length;
            outcome = "ok";
        }
        catch (Exception e)
        {
            outcome = e.GetType().Name;
            Console.Error.WriteLine(e.Message);
        }
        var peak = ProcessFigures.StatusBytes("VmHWM");
        Console.WriteLine($"outcome={outcome} inflated={inflated} wire={wire} peak_delta={peak - before} peak_reset={reset.ToString().ToLowerInvariant()}");
        return 0;
    }

    private static async Task<bool> Answer(string path, System.Net.Sockets.NetworkStream stream, byte[] bomb)
    {
        switch (path)
        {
            case "/small-gzip":
                var small = Gzip(new byte[1000]);
                await Write(stream, $"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {small.Length}\r\n\r\n", small);
                return true;
            case "/bomb-read" or "/bomb-stream":
                await Write(stream, $"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {bomb.Length}\r\n\r\n", bomb);
                return true;
            case "/header-flood":
                // 200,000 header lines, written in slices as long as the client keeps reading.
                await Write(stream, "HTTP/1.1 200 OK\r\n", []);
                var lines = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("X-Flood: yes\r\n", 1000)));
                for (var i = 0; i < 200; i++) await stream.WriteAsync(lines);
                await Write(stream, "Content-Length: 0\r\n\r\n", []);
                return false;
            case "/long-status":
                await Write(stream, "HTTP/1.1 200 " + new string('x', (int)MiB) + "\r\nContent-Length: 0\r\n\r\n", []);
                return false;
            case "/long-header":
                await Write(stream, "HTTP/1.1 200 OK\r\nX-Long: " + new string('x', (int)MiB) + "\r\nContent-Length: 0\r\n\r\n", []);
                return false;
            default:
                await Write(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", []);
                return true;
        }
    }

    private static async Task Write(Stream stream, string head, byte[] body)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
        if (body.Length > 0) await stream.WriteAsync(body);
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>
    /// A gzip body that inflates to <paramref name="total"/> zero bytes: 1 MiB members, concatenated (RFC 1952 §2.2),
    /// about 1 KiB of wire per MiB inflated, so 1 GiB of zeros comes from about 1 MiB.
    /// </summary>
    public static byte[] GzipZeros(long total)
    {
        var member = Gzip(new byte[MiB]);
        var count = (int)(total / MiB);
        var result = new byte[member.Length * count];
        for (var i = 0; i < count; i++) member.CopyTo(result, i * member.Length);
        return result;
    }
}
