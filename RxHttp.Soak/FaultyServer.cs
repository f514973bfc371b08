using System.Net.Sockets;
using System.Text;

namespace RxHttp.Soak;

/// <summary>The soak's server behaviours, one per path: well-behaved, slow, stalled and broken in the ways real servers are.</summary>
public static class FaultyServer
{
    public static readonly string[] Paths = ["/ok", "/slow-head", "/slow-body", "/chunked-slow", "/stall", "/reset", "/truncate", "/garbage", "/gzip", "/close"];

    private static readonly byte[] Zipped = BoundsProbe.Gzip(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("soak ", 20_000))));

    public static ScriptedServer Start() => new(Answer);

    private static async Task<bool> Answer(string path, NetworkStream stream)
    {
        switch (path)
        {
            case "/ok":
                await Write(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                return true;
            case "/slow-head":
                foreach (var part in new[] { "HTTP/1.1 200 OK\r\n", "Content-Type: text/plain\r\n", "Content-Length: 4\r\n", "\r\nslow" })
                {
                    await Write(stream, part);
                    await Task.Delay(Random.Shared.Next(1, 6));
                }
                return true;
            case "/slow-body":
                await Write(stream, "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n");
                for (var i = 0; i < 8; i++)
                {
                    await stream.WriteAsync(new byte[8192]);
                    await Task.Delay(Random.Shared.Next(1, 4));
                }
                return true;
            case "/chunked-slow":
                await Write(stream, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (var i = 0; i < 10; i++)
                {
                    await Write(stream, "400\r\n" + new string('c', 1024) + "\r\n");
                    await Task.Delay(Random.Shared.Next(1, 4));
                }
                await Write(stream, "0\r\n\r\n");
                return true;
            case "/stall":
                // Never answers: waits for the client to give up and close.
                while (await stream.ReadAsync(new byte[256]) > 0) { }
                return false;
            case "/reset":
                await Write(stream, "HTTP/1.1 200 OK\r\nContent-Le");
                stream.Socket.LingerState = new LingerOption(true, 0);
                stream.Socket.Close();
                return false;
            case "/truncate":
                await Write(stream, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('t', 500));
                return false;
            case "/garbage":
                await Write(stream, "HTTP/1.1 2x0 What\r\n\r\n");
                return false;
            case "/gzip":
                await Write(stream, $"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {Zipped.Length}\r\n\r\n");
                await stream.WriteAsync(Zipped);
                return true;
            case "/close":
                await Write(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nclose");
                return false;
            default:
                await Write(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                return true;
        }
    }

    private static ValueTask Write(Stream stream, string text) => stream.WriteAsync(Encoding.Latin1.GetBytes(text));
}
