using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// A server that refuses an upload (413, 401) often answers as soon as it has the head and closes without reading
/// the body; its kernel then resets the connection, and the client's next write fails while the answer waits in the
/// client's receive buffer. RFC 9112 §9.5 asks a client to watch for that answer; curl shows it. RxHttp used to report
/// "Cannot write request: Connection reset by peer" instead; it now reads what the server said. A server that answers
/// and closes but still reads (nginx) used to get the whole body first; the upload now stops at the answer.
/// </summary>
[TestFixture]
public class EarlyResponseTests
{
    // Well past what the two sockets' buffers hold on loopback, so the upload is still going when the reset comes.
    private const int BodySize = 64 << 20;

    private static RawServer Refusing(string? answer) => new(async c =>
    {
        var head = new List<byte>();
        var buffer = new byte[16384];
        while (!Encoding.Latin1.GetString(head.ToArray()).Contains("\r\n\r\n"))
        {
            var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) return;
            head.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        if (answer is not null) await c.Socket.SendAsync(Encoding.ASCII.GetBytes(answer), SocketFlags.None);
        // Closed with the body unread: the kernel answers the client's next segment with a reset.
        c.Socket.Close();
    });

    private static Payload Body(string kind) => kind switch
    {
        "bytes" => new BytesPayload(new byte[BodySize]),
        "stream" => new StreamPayload(new MemoryStream(new byte[BodySize])),
        _ => new StreamPayload(new MemoryStream(new byte[BodySize])),
    };

    [TestCase("bytes")]
    [TestCase("stream")]
    [TestCase("chunked")]
    public async Task An_answer_sent_before_the_body_was_read_is_the_response(string kind)
    {
        await using var server = Refusing("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large");
        using var session = new ClientSession();
        var options = new RequestOptions { Data = Body(kind), Chunked = kind == "chunked" };
        var (status, text) = await session.Post(server.Url("/upload"), options).SelectMany(r => r.Text().Select(t => (r.Status, t)));
        Assert.That(status, Is.EqualTo(413));
        Assert.That(text, Is.EqualTo("too large"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the connection to be closed, not pooled");
    }

    [Test]
    public async Task An_early_error_status_still_raises_when_asked()
    {
        await using var server = Refusing("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        var error = Assert.ThrowsAsync<ClientResponseError>(async () =>
            await session.Post(server.Url("/upload"), new RequestOptions { Data = Body("bytes"), RaiseForStatus = true }));
        Assert.That(error!.Status, Is.EqualTo(401));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the connection not to be pooled: its body was cut short");
    }

    [TestCase("bytes")]
    [TestCase("stream")]
    public async Task A_reset_with_no_answer_is_still_the_write_error(string kind)
    {
        await using var server = Refusing(null);
        using var session = new ClientSession();
        var error = Assert.ThrowsAsync<ClientOSError>(async () => await session.Post(server.Url("/upload"), new RequestOptions { Data = Body(kind) }));
        Assert.That(error!.Message, Does.StartWith("Cannot write request"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the connection to be closed");
    }

    [Test]
    public async Task A_failure_of_the_callers_own_body_source_is_not_taken_for_a_reset()
    {
        await using var server = Refusing("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        var mine = new IOException("the caller's disk failed");
        var error = Assert.ThrowsAsync<IOException>(async () =>
            await session.Post(server.Url("/upload"), new RequestOptions { Data = new StreamPayload(new FailingStream(mine)) }));
        Assert.That(error, Is.SameAs(mine));
    }

    /// <summary>Answers after the head with <paramref name="early"/>, then reads what the client still sends until it
    /// closes or the announced body is in, then answers <paramref name="late"/> if any; the bytes read are counted.</summary>
    private sealed class Answering(string early, string? late = null) : IAsyncDisposable
    {
        private readonly TaskCompletionSource<long> _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private RawServer? _server;

        public Task<long> Drained => _drained.Task;

        public string Url => (_server ??= Start()).Url("/upload");

        private RawServer Start() => new(async c =>
        {
            var head = new List<byte>();
            var buffer = new byte[65536];
            long drained = 0;
            while (true)
            {
                var text = Encoding.Latin1.GetString(head.ToArray());
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    drained = head.Count - end - 4;
                    break;
                }
                var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) return;
                head.AddRange(buffer.AsSpan(0, n).ToArray());
            }
            await c.Socket.SendAsync(Encoding.ASCII.GetBytes(early), SocketFlags.None);
            try
            {
                while (drained < BodySize)
                {
                    var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) break;
                    drained += n;
                }
            }
            catch (SocketException)
            {
            }
            _drained.TrySetResult(drained);
            if (late is not null) await c.Socket.SendAsync(Encoding.ASCII.GetBytes(late), SocketFlags.None);
            await c.WaitForCloseAsync();
        });

        public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    // nginx answers 413 over client_max_body_size and then reads and discards what still comes, for up to 30 s.
    [TestCase("bytes")]
    [TestCase("stream")]
    [TestCase("chunked")]
    public async Task A_final_answer_that_closes_the_connection_stops_the_upload(string kind)
    {
        await using var server = new Answering("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large");
        using var session = new ClientSession();
        var options = new RequestOptions { Data = Body(kind), Chunked = kind == "chunked" };
        var (status, text) = await session.Post(server.Url, options).SelectMany(r => r.Text().Select(t => (r.Status, t)));
        Assert.That((status, text), Is.EqualTo((413, "too large")));
        Assert.That(await server.Drained.WaitAsync(TimeSpan.FromSeconds(20)), Is.LessThan(BodySize / 2), "the rest of the body was not sent");
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the connection to be closed, not pooled");
    }

    // A POST that leases an idle connection while other requests are out has its response read started before its
    // head goes (a read-ahead, as HttpClient does): the early answer lands in that read, not on the socket.
    [Test]
    public async Task A_reused_connection_with_its_response_read_started_stops_the_upload_too()
    {
        var warmHeads = 0;
        var bothWarm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var drained = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new RawServer(async c =>
        {
            var buffer = new byte[65536];
            var pending = new List<byte>();
            while (true)
            {
                int end;
                while ((end = Encoding.Latin1.GetString(pending.ToArray()).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                {
                    var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) return;
                    pending.AddRange(buffer.AsSpan(0, n).ToArray());
                }
                var head = Encoding.Latin1.GetString(pending.ToArray(), 0, end);
                long got = pending.Count - end - 4;
                pending.Clear();
                if (head.StartsWith("GET /warm"))
                {
                    if (Interlocked.Increment(ref warmHeads) == 2) bothWarm.TrySetResult();
                    await bothWarm.Task;
                    await c.Socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None);
                }
                else if (head.StartsWith("GET /hold"))
                {
                    await c.WaitForCloseAsync();
                    return;
                }
                else
                {
                    await c.Socket.SendAsync("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None);
                    try
                    {
                        while (got < BodySize && await c.Socket.ReceiveAsync(buffer, SocketFlags.None) is var n and > 0) got += n;
                    }
                    catch (SocketException)
                    {
                    }
                    drained.TrySetResult(got);
                    await c.WaitForCloseAsync();
                    return;
                }
            }
        });
        using var session = new ClientSession();
        // Two idle connections: two requests the server answers only once both are in.
        await Task.WhenAll(session.Get(server.Url("/warm")).SelectMany(r => r.Read()).ToTask(), session.Get(server.Url("/warm")).SelectMany(r => r.Read()).ToTask());
        using var hold = session.Get(server.Url("/hold")).Subscribe(_ => { }, _ => { });
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1, what: "the held request to be out");
        var readAheads = session.Connector.ReadAheads;
        var status = await session.Post(server.Url("/upload"), new RequestOptions { Data = Body("stream") }).Select(r => r.Status);
        Assert.That(status, Is.EqualTo(413));
        Assert.That(session.Connector.ReadAheads, Is.EqualTo(readAheads + 1), "the upload's response read was started before its head went");
        // The answer is seen once the read-ahead's completion has run, a thread-pool dispatch: on a loaded machine
        // that came after more than half the body (once in a full suite beside five builds), so only "not all of it"
        // is asserted; without the read-ahead's bytes consulted, all of it goes.
        Assert.That(await drained.Task.WaitAsync(TimeSpan.FromSeconds(20)), Is.LessThan(BodySize), "the rest of the body was not sent");
    }

    [Test]
    public async Task An_early_answer_that_keeps_the_connection_lets_the_body_go_on()
    {
        await using var server = new Answering("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
        using var session = new ClientSession();
        var text = await session.Post(server.Url, new RequestOptions { Data = Body("stream") }).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("ok"));
        Assert.That(await server.Drained.WaitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo(BodySize));
    }

    [Test]
    public async Task An_unasked_100_continue_lets_the_body_go_on()
    {
        await using var server = new Answering("HTTP/1.1 100 Continue\r\n\r\n", late: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        using var session = new ClientSession();
        var text = await session.Post(server.Url, new RequestOptions { Data = Body("bytes") }).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("done"));
        Assert.That(await server.Drained, Is.EqualTo(BodySize));
    }

    private sealed class FailingStream(Exception error) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw error;
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(error);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
