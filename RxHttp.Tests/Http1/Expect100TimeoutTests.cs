using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Http1;

/// <summary>
/// <c>Expect: 100-continue</c> against a server that never sends 100 (many do not, and no HTTP/1.0 proxy can): the
/// body used to stay held until the server gave up or a timeout failed the request. RFC 9110 §10.1.1 asks a client not
/// to wait indefinitely; after <see cref="ClientSessionOptions.Expect100Timeout"/> (1 s, as HttpClient's and curl's),
/// timed on the request's scheduler, the body goes anyway.
/// </summary>
[TestFixture]
public class Expect100TimeoutTests : ReactiveTest
{
    /// <summary>A server that ignores Expect: it reads the head and the announced body, then answers with what it got.</summary>
    private sealed class IgnoringServer : IAsyncDisposable
    {
        private readonly RawServer _server;
        public TaskCompletionSource<RawServer.RawConnection> HeadSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Requests;

        public IgnoringServer() => _server = new RawServer(async c =>
        {
            while (true)
            {
                var head = await ReadHeadAsync(c.Socket);
                if (head is null) return;
                HeadSeen.TrySetResult(c);
                var length = int.Parse(head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim());
                var got = 0;
                var buffer = new byte[65536];
                while (got < length)
                {
                    var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) return;
                    got += n;
                }
                Interlocked.Increment(ref Requests);
                var answer = $"got {got}";
                await c.Socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\n\r\n{answer}"), SocketFlags.None);
            }
        });

        public string Url => _server.Url("/upload");
        public int ConnectionCount => _server.ConnectionCount;

        // Byte by byte up to the blank line, so no body byte is taken with the head.
        public static async Task<string?> ReadHeadAsync(Socket socket)
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

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }

    [Test]
    public async Task The_body_goes_after_the_wait_and_the_connection_serves_the_next_request()
    {
        await using var server = new IgnoringServer();
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(50) });
        var options = new RequestOptions { Data = new byte[300_000], Expect100 = true };
        Assert.That(await session.Post(server.Url, options).SelectMany(r => r.Text()), Is.EqualTo("got 300000"));
        Assert.That(await session.Post(server.Url, options).SelectMany(r => r.Text()), Is.EqualTo("got 300000"));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the whole body went, so the connection stayed usable");
    }

    // The caller's own header holds the body just as Expect100 does, so it is not held for good either.
    [Test]
    public async Task A_callers_own_expect_header_waits_no_longer_than_the_option()
    {
        await using var server = new IgnoringServer();
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(50) });
        var options = new RequestOptions { Data = new byte[1000], Headers = new Dictionary<string, string> { ["Expect"] = "100-Continue" } };
        Assert.That(await session.Post(server.Url, options).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("got 1000"));
    }

    // A server that ignores Expect and, once the body is coming, refuses it and stops reading: the body the timer
    // started fills the socket buffers and would wait there for good; the closing answer stops it instead.
    [Test]
    public async Task A_closing_answer_stops_the_body_the_wait_started()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new RawServer(async c =>
        {
            if (await IgnoringServer.ReadHeadAsync(c.Socket) is null) return;
            var buffer = new byte[65536];
            for (long got = 0; got < 1 << 20;) got += await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
            await c.Socket.SendAsync("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None);
            await release.Task; // reads nothing more
        });
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(20) });
        try
        {
            var status = await session.Post(server.Url(), new RequestOptions { Data = new StreamPayload(new MemoryStream(new byte[256 << 20])), Expect100 = true })
                .Select(r => r.Status).Timeout(TimeSpan.FromSeconds(20));
            Assert.That(status, Is.EqualTo(413));
            await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the connection to be closed");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Test]
    public async Task The_wait_is_timed_on_the_requests_scheduler()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new IgnoringServer();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        var observer = scheduler.CreateObserver<string>();
        using var _ = session.Post(server.Url, new RequestOptions { Data = new byte[1000], Expect100 = true, Expect100Timeout = TimeSpan.FromSeconds(3) })
            .SelectMany(r => r.Text()).Subscribe(observer);
        var connection = await server.HeadSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The server can read the head before the client's write returns and arms the wait: advanced first, the
        // clock would have the wait start at S(3) - 1 (this failed once on a loaded machine).
        await Wait.Until(() => scheduler.IsPending(S(3)), what: "the 100 Continue wait to be armed");

        scheduler.AdvanceTo(S(3) - 1);
        // A body started by the timer would be on the loopback by now: its first write completes inside AdvanceTo.
        Assert.That(connection.Socket.Available, Is.Zero, "no body byte before the wait is over");
        scheduler.AdvanceTo(S(3));
        await Wait.Until(() => observer.Messages.Count == 2, what: "the body to go and the answer to come");
        Assert.That(observer.Messages[0].Value.Value, Is.EqualTo("got 1000"));
    }

    [Test]
    public async Task An_infinite_wait_holds_the_body_until_the_server_answers()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new IgnoringServer();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler, Expect100Timeout = Timeout.InfiniteTimeSpan });
        var observer = scheduler.CreateObserver<string>();
        using var _ = session.Post(server.Url, new RequestOptions { Data = new byte[1000], Expect100 = true }).SelectMany(r => r.Text()).Subscribe(observer);
        var connection = await server.HeadSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        scheduler.AdvanceTo(S(250)); // short of the 300 s total timeout, which still applies
        Assert.That(connection.Socket.Available, Is.Zero);
        Assert.That(observer.Messages, Is.Empty);
    }

    [Test]
    public async Task A_request_that_fails_before_the_wait_is_over_never_sends_its_body()
    {
        var scheduler = new SocketTestScheduler();
        var spy = new SpyPayload(new byte[1000]);
        await using var server = new RawServer(async c =>
        {
            if (await IgnoringServer.ReadHeadAsync(c.Socket) is not null) c.Socket.Close(); // no answer at all
        });
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        var observer = scheduler.CreateObserver<ClientResponse>();
        using var _ = session.Post(server.Url(), new RequestOptions { Data = spy, Expect100 = true }).Subscribe(observer);
        await Wait.Until(() => observer.Messages.Count == 1, what: "the disconnect");
        Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<ServerDisconnectedError>());
        scheduler.AdvanceTo(S(10));
        Assert.That(spy.Writes, Is.Zero, "the timer of a failed request does not send its body");
    }

    // A server that ignores Expect waits for the whole body before it answers; a body the timer started that then
    // fails (the payload throws, or ends short of its Content-Length) will never be whole, so waiting for the head
    // would last until a timeout (Total, 300 s by default) and report that instead of the body's own error.
    [TestCase(false)]
    [TestCase(true)]
    public async Task A_body_the_wait_started_that_fails_fails_the_request_with_its_own_error(bool shortOfItsLength)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new RawServer(async c =>
        {
            if (await IgnoringServer.ReadHeadAsync(c.Socket) is null) return;
            var buffer = new byte[65536];
            while (await c.Socket.ReceiveAsync(buffer, SocketFlags.None) > 0) { } // reads, never answers
            release.TrySetResult();
        });
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(20) });
        object data = shortOfItsLength ? new StreamPayload(new ShortStream(declared: 10, produces: 4)) : FailingBody();
        var request = session.Post(server.Url(), new RequestOptions { Data = data, Expect100 = true }).Timeout(TimeSpan.FromSeconds(20));
        if (shortOfItsLength)
            Assert.That(async () => await request, Throws.TypeOf<ClientPayloadError>().With.Message.Contains("4 of the 10 bytes"));
        else
            Assert.That(async () => await request, Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("payload failed"));
        await release.Task.WaitAsync(TimeSpan.FromSeconds(10)); // and the connection was closed

        static async IAsyncEnumerable<ReadOnlyMemory<byte>> FailingBody()
        {
            yield return "first"u8.ToArray();
            await Task.Yield();
            throw new InvalidDataException("payload failed");
        }
    }

    /// <summary>A seekable stream whose Length promises more than it gives.</summary>
    private sealed class ShortStream(long declared, int produces) : Stream
    {
        private int _given;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => declared;
        public override long Position { get => _given; set { } }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, produces - _given);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _given += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => _given;
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Test]
    public void The_wait_cannot_be_negative()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ClientSessionOptions { Expect100Timeout = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RequestOptions { Expect100Timeout = TimeSpan.FromSeconds(-2) });
        Assert.That(new ClientSessionOptions().Expect100Timeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
    }
}
