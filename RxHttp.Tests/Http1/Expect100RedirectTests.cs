using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// What <c>Expect: 100-continue</c> is for: a server that redirects an upload (S3's 307 to the bucket's region) says
/// so before the body goes, so a body that cannot be sent twice (a pipe, an async sequence) is still whole and can
/// follow the 307. RxHttp refused it as "a stream that cannot be sent twice" although none of it had been sent;
/// HttpClient sends it on.
/// </summary>
[TestFixture]
public class Expect100RedirectTests
{
    private static readonly byte[] Upload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("one-shot ", 1000)));

    // /first answers 307 at once (the body unread); /second answers 100, reads the chunked body and tells its length.
    private static RawServer Redirecting() => new(async c =>
    {
        var head = await ReadHeadAsync(c.Socket);
        if (head is null) return;
        if (head.StartsWith("POST /first", StringComparison.Ordinal))
        {
            await c.WriteAsync("HTTP/1.1 307 Temporary Redirect\r\nLocation: /second\r\nContent-Length: 0\r\n\r\n");
            await c.WaitForCloseAsync();
            return;
        }
        await c.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n");
        var body = new List<byte>();
        var buffer = new byte[65536];
        while (!Encoding.Latin1.GetString(body.ToArray()).EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) return;
            body.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        var text = Unchunk(Encoding.Latin1.GetString(body.ToArray()));
        await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {text.Length}\r\n\r\n{text}");
        await c.WaitForCloseAsync();
    });

    private static async Task<string?> ReadHeadAsync(Socket socket)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(one, SocketFlags.None) == 0) return null;
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    private static string Unchunk(string chunked)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (true)
        {
            var eol = chunked.IndexOf("\r\n", i, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[i..eol], 16);
            if (size == 0) return sb.ToString();
            sb.Append(chunked, eol + 2, size);
            i = eol + 2 + size + 2;
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Sequence()
    {
        await Task.Yield();
        yield return Upload;
    }

    [TestCase("pipe")]
    [TestCase("sequence")]
    public async Task A_one_shot_body_the_307_came_before_follows_it(string kind)
    {
        await using var server = Redirecting();
        using var session = new ClientSession();
        object data = kind == "pipe" ? new StreamPayload(new BufferedPipe(Upload)) : Sequence();
        var (status, text, hops) = await session.Post(server.Url("/first"), new RequestOptions { Data = data, Expect100 = true })
            .SelectMany(r => r.Text().Select(t => (r.Status, t, r.History.Count)));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(hops, Is.EqualTo(1));
        Assert.That(text, Is.EqualTo(Encoding.ASCII.GetString(Upload)));
    }

    [Test]
    public async Task A_one_shot_body_that_went_out_still_cannot_follow_a_307()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 307 Temporary Redirect\r\nLocation: /second\r\nContent-Length: 0\r\n\r\n");
            await c.WaitForCloseAsync();
        });
        using var session = new ClientSession();
        var options = new RequestOptions { Data = new StreamPayload(new BufferedPipe(Upload)), Headers = new Dictionary<string, string> { ["Content-Length"] = Upload.Length.ToString() } };
        Assert.That(async () => await session.Post(server.Url("/first"), options),
            Throws.TypeOf<ClientPayloadError>().With.Message.Contains("cannot be sent twice"));
    }

    /// <summary>A stream that cannot seek, as a pipe or a network stream.</summary>
    private sealed class BufferedPipe(byte[] data) : Stream
    {
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer.AsSpan(offset));
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
