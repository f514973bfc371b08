using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// Bytes a TLS server sends behind a complete response answer nothing this client sent. Over TLS they can sit inside
/// <see cref="SslStream"/> (decrypted, or a later record taken in the same receive), where neither the connection's
/// own buffer count nor a Poll of the idle socket sees them; HttpClient starts a read on each lease and sees them.
/// The next request must get its own answer on a new connection, whatever size the body had and however the
/// server's records fell.
/// </summary>
[TestFixture]
public class TlsTailBytesTests
{
    private static readonly X509Certificate2 Certificate = KestrelServer.MakeCertificate();

    // 13 B: the stray response comes with the body into the connection's buffer. 20 KB and 300 KB: the body's end is
    // read straight into an array of its exact length, and the stray bytes stay behind in SslStream.
    [TestCase(13, false, false)]
    [TestCase(20_000, false, false)]
    [TestCase(300_000, false, false)]
    [TestCase(20_000, true, false)]
    [TestCase(300_000, true, false)]
    [TestCase(20_000, false, true)]
    [TestCase(300_000, true, true)]
    public async Task Bytes_behind_a_response_over_tls_are_never_the_next_response(int size, bool separateRecord, bool concurrent)
    {
        var body = KestrelServer.Pattern(size);
        await using var server = new TlsScriptServer(Certificate, async (stream, first) =>
        {
            var served = 0;
            var cork = (CorkStream)((CorkedSslStream)stream).Inner;
            while (await TlsScriptServer.ReadHeadAsync(stream) is not null)
            {
                if (!first || served++ > 0)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"));
                    continue;
                }
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
                var stray = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
                if (separateRecord)
                {
                    // Records of their own, sent in one TCP segment train: all there before the client's next lease.
                    cork.Corked = true;
                    await stream.WriteAsync((byte[])[.. head, .. body]);
                    await stream.WriteAsync(stray);
                    await cork.UncorkAsync();
                }
                else
                {
                    await stream.WriteAsync((byte[])[.. head, .. body, .. stray]);
                }
            }
        });
        var options = new TcpConnectorOptions { Limit = 4, Tls = TlsOptions.NoVerify };
        using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(options) });
        // Concurrent: another request of the pool is out when the second one leases (the pool's read-ahead path).
        using var busy = new BusyPeer();
        if (concurrent) await busy.HoldAsync(session);
        var read = await session.Get(server.Url).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(read, Is.EqualTo(body));
        var next = await session.Get(server.Url).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(next, Is.EqualTo("good"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(concurrent ? 1 : 0));
    }

    // A websocket handshake leases from the same pool (wss:// shares https://'s connections) and reads its 101
    // through the connection, so the stray response would be its answer too.
    [Test]
    public async Task A_websocket_handshake_never_reads_bytes_left_behind_a_response_over_tls()
    {
        var body = KestrelServer.Pattern(20_000);
        await using var server = new TlsScriptServer(Certificate, async (stream, first) =>
        {
            while (await TlsScriptServer.ReadHeadAsync(stream) is { } head)
            {
                if (first)
                {
                    var stray = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
                    await stream.WriteAsync((byte[])[.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"), .. body, .. stray]);
                    continue;
                }
                var key = head.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
                var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
                await stream.ReadAsync(new byte[1]); // until the client goes
                return;
            }
        });
        using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify }) });
        Assert.That(await session.Get(server.Url).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo(body));
        await using var ws = await session.WsConnectAsync(server.Url.Replace("https", "wss")).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(ws.Status, Is.EqualTo(101));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    // The probe's read waits, parked, from the lease until the response is read: a request given up in between (its
    // body stalled) closes the connection and ends that read, and the pool is whole again.
    [Test]
    public async Task A_request_cancelled_while_its_probe_waits_closes_the_connection_and_frees_its_slot()
    {
        var posted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new TlsScriptServer(Certificate, async (stream, first) =>
        {
            while (await TlsScriptServer.ReadHeadAsync(stream) is { } head)
            {
                if (head.StartsWith("POST", StringComparison.Ordinal))
                {
                    posted.TrySetResult();
                    await stream.ReadAsync(new byte[1024]); // the body never ends; the client goes
                    return;
                }
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
            }
        });
        using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify }) });
        Assert.That(await session.Get(server.Url).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
        var stalled = Observable.Return((ReadOnlyMemory<byte>)new byte[] { 1, 2, 3 }).Concat(Observable.Never<ReadOnlyMemory<byte>>());
        var errors = new List<Exception>();
        var request = session.Post(server.Url, new RequestOptions { Data = new ObservablePayload(stalled) }).Subscribe(_ => { }, e => errors.Add(e));
        await posted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        request.Dispose();
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the cancelled request's connection to close");
        Assert.That(errors, Is.Empty, "a disposed request reports nothing");
        Assert.That(await session.Get(server.Url).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    // Holds a request of the pool out (an unanswered one, on a server of its own key) for the test's span.
    private sealed class BusyPeer : IDisposable
    {
        private RawServer? _server;
        private IDisposable? _request;

        public async Task HoldAsync(ClientSession session)
        {
            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _server = new RawServer(async c =>
            {
                await c.ReadRequestAsync();
                heard.TrySetResult();
                await c.WaitForCloseAsync();
            });
            _request = session.Get(_server.Url()).Subscribe(_ => { }, _ => { });
            await heard.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }

        public void Dispose()
        {
            _request?.Dispose();
            _server?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        }
    }
}
