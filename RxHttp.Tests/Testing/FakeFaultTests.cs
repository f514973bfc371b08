using System.Net.Sockets;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Testing;

/// <summary>Scripted faults and timeouts: the errors a real socket would give, at exact virtual ticks.</summary>
public class FakeFaultTests : ReactiveTest
{
    private const string Api = "https://api.example.test";

    private static Exception? ErrorOf(FakeFault fault, ClientTimeout? timeout = null, long disposeAt = 1000)
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Fail(fault);
        using var session = http.CreateSession(scheduler, timeout);
        var res = scheduler.Start(() => session.Get(Api + "/x"), 100, 200, disposeAt);
        return res.Messages.SingleOrDefault().Value?.Exception;
    }

    [Test]
    public void Connection_refused_is_a_ClientConnectorError_with_the_socket_error()
    {
        var e = ErrorOf(FakeFault.ConnectionRefused);
        Assert.That(e, Is.TypeOf<ClientConnectorError>());
        Assert.That(((ClientConnectorError)e!).Host, Is.EqualTo("api.example.test"));
        Assert.That(e.InnerException, Is.TypeOf<SocketException>().With.Property("SocketErrorCode").EqualTo(SocketError.ConnectionRefused));
    }

    [Test]
    public void A_dns_failure_is_a_ClientConnectorDnsError() =>
        Assert.That(ErrorOf(FakeFault.DnsFailure), Is.TypeOf<ClientConnectorDnsError>());

    [Test]
    public void A_tls_failure_is_a_ClientSslError() =>
        Assert.That(ErrorOf(FakeFault.TlsFailure), Is.TypeOf<ClientSslError>());

    [Test]
    public void A_reset_before_the_response_is_a_ServerDisconnectedError() =>
        Assert.That(ErrorOf(FakeFault.Reset), Is.InstanceOf<ServerDisconnectedError>());

    // A host that goes down between two requests of a keep-alive client: its pooled connection cannot be refused.
    [Test]
    public void A_connect_fault_scripted_after_a_response_fails_the_next_request_as_the_next_connection()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/x").Respond(200, "up").Fail(FakeFault.ConnectionRefused).Respond(200, "back");
        http.When("POST", Api + "/y").Respond(200, "posted").Fail(FakeFault.ConnectionRefused);
        using var session = http.CreateSession(scheduler);
        // Each request a second after the last, well within the keep-alive (Start would run the clock to its expiry).
        string Outcome(IObservable<ClientResponse> request)
        {
            var observer = scheduler.CreateObserver<string>();
            using var _ = request.SelectMany(r => r.Text()).Subscribe(observer);
            scheduler.AdvanceBy(S(1));
            return observer.Messages[0].Value is { Kind: System.Reactive.NotificationKind.OnNext } n ? n.Value : observer.Messages[0].Value.Exception!.GetType().Name;
        }

        Assert.That(Outcome(session.Get(Api + "/x")), Is.EqualTo("up"));
        Assert.That(Outcome(session.Get(Api + "/x")), Is.EqualTo(nameof(ClientConnectorError)),
            "the pooled connection was closed, and the GET's retry on a new one was refused");
        Assert.That(Outcome(session.Get(Api + "/x")), Is.EqualTo("back"));
        Assert.That(Outcome(session.Post(Api + "/y")), Is.EqualTo("posted"));
        Assert.That(Outcome(session.Post(Api + "/y")), Is.EqualTo(nameof(ServerDisconnectedError)), "a POST is not retried");
        Assert.That(Outcome(session.Post(Api + "/y")), Is.EqualTo(nameof(ClientConnectorError)), "the fault waited for the next connection");
        Assert.That(http.Calls.Select(c => c.ToString()), Is.EqualTo(new[]
        {
            "GET " + Api + "/x → 200 OK", "GET " + Api + "/x → 200 OK", "POST " + Api + "/y → 200 OK",
        }), "a request that met a closed connection or a refused connect never reached the server");
        Assert.That(http.ConnectionsOpened, Is.EqualTo(2));
    }

    [Test]
    public void A_connect_stall_ends_with_the_total_timeout_at_the_ceiled_second()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Fail(FakeFault.ConnectStall);
        using var session = http.CreateSession(scheduler, new ClientTimeout { Total = TimeSpan.FromSeconds(10) });
        var res = scheduler.Start(() => session.Get(Api + "/x"), 100, S(1000.3), S(2000));
        // 10 s ≥ CeilThreshold 5 s: the deadline 1010.3 s is rounded up to the whole second.
        Assert.That(res.Messages, Has.Count.EqualTo(1));
        Assert.That(res.Messages[0].Time, Is.EqualTo(S(1011)));
        Assert.That(res.Messages[0].Value.Exception, Is.TypeOf<TotalTimeoutError>());
    }

    [Test]
    public void A_stalled_response_ends_with_SocketTimeoutError_at_sock_read_under_the_threshold()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Fail(FakeFault.Stall);
        using var session = http.CreateSession(scheduler, new ClientTimeout { SockRead = TimeSpan.FromSeconds(3), Total = null });
        var res = scheduler.Start(() => session.Get(Api + "/x"), 100, S(1000.3), S(2000));
        Assert.That(res.Messages.Single().Time, Is.EqualTo(S(1003.3)), "3 s < 5 s threshold: exact");
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<SocketTimeoutError>());
        http.ShouldHaveCalled(Api + "/x").Aborted().Times(1);
    }

    [Test]
    public void A_total_timeout_of_30_s_fires_at_the_ceiled_second_and_cancels_the_request()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Respond(FakeResponse.Status(200).After(TimeSpan.FromSeconds(60)));
        using var session = http.CreateSession(scheduler, new ClientTimeout { Total = TimeSpan.FromSeconds(30) });
        var res = scheduler.Start(() => session.Get(Api + "/x"), 100, S(10.5), S(100));
        Assert.That(res.Messages.Single().Time, Is.EqualTo(S(41)));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<TotalTimeoutError>());
        http.ShouldHaveCalled(Api + "/x").Aborted().Times(1);
    }

    [Test]
    public void A_reset_mid_body_fails_the_body_read()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(10), "part").ResetMidBody());
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get(Api + "/x").SelectMany(r => r.Content.Select(c => c.Length)));
        Assert.That(res.Messages[0], Is.EqualTo(OnNext(210, 4)));
        Assert.That(res.Messages[1].Time, Is.EqualTo(210));
        Assert.That(res.Messages[1].Value.Exception, Is.InstanceOf<ClientError>());
    }

    [Test]
    public void A_reset_by_the_server_is_not_recorded_as_the_clients_abort()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/reset").Fail(FakeFault.Reset);
        http.When(Api + "/cut").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(10), "part").ResetMidBody());
        using var session = http.CreateSession(scheduler);
        var errors = new List<Exception>();
        IObservable<string> Failed(Exception e)
        {
            errors.Add(e);
            return Observable.Empty<string>();
        }
        scheduler.Start(() => session.Get(Api + "/reset").SelectMany(r => r.Text()).Catch<string, Exception>(Failed)
            .Concat(session.Get(Api + "/cut").SelectMany(r => r.Text()).Catch<string, Exception>(Failed)));

        Assert.That(errors, Has.Count.EqualTo(2).And.All.InstanceOf<ClientError>());
        Assert.That(http.Calls.Select(c => (c.Aborted, c.Completed)), Is.EqualTo(new[] { (false, false), (false, false) }));
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled().Aborted(), "the client gave up on neither call");
    }

    [Test]
    public void A_refused_first_connect_then_a_retry_succeeds()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Fail(FakeFault.ConnectionRefused).Respond(200, "up");
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get(Api + "/x").Retry(2).SelectMany(r => r.Text()));
        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("up"));
        Assert.That(http.ConnectionsOpened, Is.EqualTo(1));
    }
}
