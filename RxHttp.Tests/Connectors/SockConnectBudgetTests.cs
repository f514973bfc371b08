using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// <see cref="ClientTimeout.SockConnect"/> bounds a direct connection's connect and TLS handshake together, from the
/// start of the connect attempt that won (aiohttp's sock_connect around create_connection, HttpClient's
/// ConnectTimeout): the handshake does not get a whole SockConnect of its own once the connect is done.
/// </summary>
[TestFixture]
public class SockConnectBudgetTests
{
    private const long Ms = TimeSpan.TicksPerMillisecond;

    [Test]
    public async Task A_tls_handshake_after_a_slow_connect_gets_what_is_left_of_the_attempts_sock_connect()
    {
        using var hole = new Blackhole();
        var scheduler = new SocketTestScheduler();
        using var connector = new TcpConnector(new TcpConnectorOptions { Scheduler = scheduler, Tls = TlsOptions.NoVerify });
        var timeout = new ClientTimeout { SockConnect = TimeSpan.FromSeconds(1) };
        var task = connector.Connect(new ConnectionKey("127.0.0.2", hole.Port, true), timeout).FirstAsync().ToTask();
        await Wait.Until(() => connector.ConnectAttempts == 1);
        // The SYN goes unanswered for 600 ms of the attempt's second; then the listener takes the retransmission.
        scheduler.AdvanceTo(600 * Ms);
        hole.Unblock();
        await Wait.Until(() => hole.Silent.Poll(0, SelectMode.SelectRead), what: "the connect to complete");
        using var accepted = hole.Silent.Accept();
        Assert.That(await accepted.ReceiveAsync(new byte[16 * 1024], SocketFlags.None).Within(5), Is.GreaterThan(0), "the ClientHello, never answered");
        scheduler.AdvanceTo(1000 * Ms - 1);
        Assert.That(task.IsCompleted, Is.False, "still in the handshake one tick before the attempt's SockConnect");

        scheduler.AdvanceTo(1000 * Ms);

        var e = Assert.ThrowsAsync<ConnectionTimeoutError>(() => task.Within(5));
        Assert.That(e!.Message, Does.Contain("TLS handshake"));
        await Wait.Until(() => connector.CurrentState.Opening == 0, what: "the opening to end");
    }
}
