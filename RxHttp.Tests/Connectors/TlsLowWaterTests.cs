using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A TLS connection whose lone requests poll for their responses raises the receive low-water mark of the socket
/// under its SslStream, as a plain one does, so a response wakes neither the socket engine nor the thread pool. The
/// mark must never hide anything: a record slower than the poll window, a stray record on an idle connection and a
/// websocket's messages on a connection that carried polled requests all arrive or are seen as before.
/// </summary>
[TestFixture]
public class TlsLowWaterTests
{
    private static readonly X509Certificate2 Certificate = KestrelServer.MakeCertificate();

    // Wider than the option allows (see ResponsePollTests): a stalled test machine still counts as answering fast.
    private static ClientSession Session(TimeSpan? window = null)
    {
        var session = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify, ResponsePollWindow = window ?? TimeSpan.Zero }),
        });
        if (window is null) session.Connector.ResponsePollTicks = 30 * System.Diagnostics.Stopwatch.Frequency;
        return session;
    }

    private static async Task<Connection> LeaseAsync(ClientSession session, int port) =>
        await session.Connector.Connect(new ConnectionKey("127.0.0.1", port, true)).FirstAsync();

    private static async Task GetOk(ClientSession session, string url, int times = 1)
    {
        for (var i = 0; i < times; i++)
            Assert.That(await session.Get(url).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
    }

    private static readonly byte[] Ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    [Test]
    public async Task A_polled_TLS_connection_keeps_the_mark_of_the_socket_under_its_SslStream_raised_between_requests()
    {
        await using var server = new TlsScriptServer(Certificate, async (stream, _) =>
        {
            while (await TlsScriptServer.ReadHeadAsync(stream) is not null) await stream.WriteAsync(Ok);
        });
        await using var session = Session();
        await GetOk(session, server.Url, 5);
        Assert.That(session.Connector.PolledResponses, Is.GreaterThan(0));
        var c = await LeaseAsync(session, server.Port);
        Assert.That(c.LowWater, Is.Not.Null, "the socket's stream under the SslStream");
        Assert.That(c.LowWater!.Raised, Is.True);
        c.Release();
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_record_slower_than_the_window_still_arrives_on_a_TLS_connection_whose_mark_was_raised()
    {
        // The poll gives up after the window; the SslStream's read that then waits through the socket engine must
        // lower the mark first, or a 40-byte record would wake it never.
        var slowNext = 0;
        await using var server = new TlsScriptServer(Certificate, async (stream, _) =>
        {
            while (await TlsScriptServer.ReadHeadAsync(stream) is not null)
            {
                if (Interlocked.Exchange(ref slowNext, 0) == 1) await Task.Delay(300);
                await stream.WriteAsync(Ok);
            }
        });
        await using var session = Session(TimeSpan.FromMilliseconds(100));
        Connection c;
        for (var fast = 1; ; fast++)
        {
            await GetOk(session, server.Url);
            c = await LeaseAsync(session, server.Port);
            if (c.LowWater!.Raised) break;
            c.Release();
            Assert.That(fast, Is.LessThan(500), "the fast answers were never polled for");
        }
        c.Release();
        Interlocked.Exchange(ref slowNext, 1);
        Assert.That(await session.Get(server.Url).SelectMany(r => r.Text()).ToTask().WaitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
        Assert.That(c.LowWater.Raised, Is.False);
        await GetOk(session, server.Url);
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_stray_record_on_an_idle_TLS_connection_whose_mark_is_raised_makes_it_stale()
    {
        // Poll does not see a record under the mark, and the lease's TLS probe parks its wait without reading the
        // socket: the check before reuse must ask FIONREAD of the socket under the SslStream.
        var sendStray = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var straySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new TlsScriptServer(Certificate, async (stream, first) =>
        {
            var answered = 0;
            while (await TlsScriptServer.ReadHeadAsync(stream) is not null)
            {
                await stream.WriteAsync(Ok);
                if (!first || ++answered != 3) continue;
                await sendStray.Task;
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"));
                straySent.SetResult();
            }
        });
        await using var session = Session();
        await GetOk(session, server.Url, 3);
        var c = await LeaseAsync(session, server.Port);
        Assert.That(c.LowWater!.Raised, Is.True);
        c.Release();
        sendStray.SetResult();
        await straySent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait.Until(() => c.Socket!.Available > 0, what: "the stray record to arrive");
        await GetOk(session, server.Url);
        Assert.That(server.ConnectionCount, Is.EqualTo(2), "the connection with a stray record was dropped, not reused");
        Assert.That(c.Closed, Is.True);
    }

    [Test]
    public async Task A_wss_websocket_on_a_connection_whose_mark_was_raised_receives_small_messages()
    {
        // wss:// shares https://'s pool: the handshake takes the connection the polled GETs raised, and the
        // websocket's waits for messages far under the mark must lower it.
        await using var server = await WsServers.StartKestrelAsync(Certificate);
        await using var session = Session();
        for (var i = 0; i < 5; i++)
            Assert.That(await session.Get(server.Url("hello")).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo(KestrelServer.Hello));
        var c = await LeaseAsync(session, server.Port);
        Assert.That(c.LowWater!.Raised, Is.True);
        c.Release();
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("https://", "wss://")).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the handshake went out on the raised connection");
        for (var i = 0; i < 3; i++)
        {
            var echo = ws.Messages.FirstAsync().ToTask();
            await ws.SendStr("m" + i);
            Assert.That((await echo.WaitAsync(TimeSpan.FromSeconds(20))).Text, Is.EqualTo("m" + i));
        }
    }
}
