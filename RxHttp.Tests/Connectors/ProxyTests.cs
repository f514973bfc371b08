using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>A real tinyproxy (Debian package <c>tinyproxy</c>), one open and one with Basic auth.</summary>
internal sealed class Tinyproxy : IDisposable
{
    private readonly LocalDaemon _daemon;
    private readonly string _dir;

    public Tinyproxy(string? basicAuth = null)
    {
        var port = LocalDaemon.FreePort();
        _dir = Directory.CreateTempSubdirectory("rxhttp-tinyproxy").FullName;
        var conf = Path.Combine(_dir, "tinyproxy.conf");
        File.WriteAllText(conf, $"Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 200\nAllow 127.0.0.1\nLogLevel Critical\n"
                                + (basicAuth is null ? "" : $"BasicAuth {basicAuth}\n"));
        _daemon = new LocalDaemon("tinyproxy", $"-d -c {conf}", port);
    }

    public int Port => _daemon.Port;
    public string Url => $"http://127.0.0.1:{Port}";

    public void Dispose()
    {
        _daemon.Dispose();
        Directory.Delete(_dir, true);
    }
}

[TestFixture]
public class ProxyTests
{
    private KestrelServer _http = null!;
    private KestrelServer _https = null!;
    private Tinyproxy _open = null!;
    private Tinyproxy _auth = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _http = await KestrelServer.StartAsync();
        _https = await KestrelServer.StartAsync(certificate: KestrelServer.MakeCertificate());
        _open = new Tinyproxy();
        _auth = new Tinyproxy("alice s3cret");
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _open.Dispose();
        _auth.Dispose();
        await _http.DisposeAsync();
        await _https.DisposeAsync();
    }

    private static async Task<Dictionary<string, string>> EchoHeaders(IObservable<ClientResponse> call)
    {
        var doc = await call.SelectMany(r => r.Json<JsonElement>());
        return doc.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
    }

    [Test]
    public async Task Plain_http_goes_through_the_proxy_in_absolute_form()
    {
        await using var session = new ClientSession();
        var headers = await EchoHeaders(session.Get(_http.Url("echo"), new RequestOptions { Proxy = _open.Url, ProxyHeaders = new Dictionary<string, string> { ["X-To-Proxy"] = "1" } }));
        Assert.That(headers["Via"], Does.Contain("tinyproxy"), "the proxy relayed it");
        Assert.That(headers.ContainsKey("X-To-Proxy"), Is.True, "proxy headers ride on the request for plain http");
    }

    [Test]
    public async Task Https_goes_through_a_connect_tunnel_with_tls_to_the_origin()
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new ProxyConnector(_open.Url, options: new ProxyConnectorOptions { Tls = TlsOptions.NoVerify }) });
        Assert.That(session.Connector.ForceClose, Is.True, "ProxyConnector does not pool by default");
        var headers = await EchoHeaders(session.Get(_https.Url("echo")));
        Assert.That(headers.ContainsKey("Via"), Is.False, "a tunnel: the proxy never saw the request");
        Assert.That(headers["Host"], Is.EqualTo($"127.0.0.1:{_https.Port}"));
        Assert.That(_https.ConnectionCount, Is.GreaterThan(0));
    }

    [Test]
    public async Task Proxy_auth_is_sent_and_a_refused_connect_is_a_ClientHttpProxyError_407()
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify }) });
        var e = Assert.ThrowsAsync<ClientHttpProxyError>(async () => await session.Get(_https.Url("hello"), new RequestOptions { Proxy = _auth.Url }));
        Assert.That(e!.Status, Is.EqualTo(407));
        Assert.That(session.Connector.CurrentState.Open + session.Connector.CurrentState.Opening, Is.EqualTo(0), "nothing left open");

        var good = new RequestOptions { Proxy = _auth.Url, ProxyAuth = new NetworkCredential("alice", "s3cret") };
        Assert.That(await session.Get(_https.Url("hello"), good).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        var inUrl = new RequestOptions { Proxy = $"http://alice:s3cret@127.0.0.1:{_auth.Port}" };
        Assert.That(await session.Get(_http.Url("hello"), inUrl).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello), "credentials in the proxy URL");
        var plain = await session.Get(_http.Url("hello"), new RequestOptions { Proxy = _auth.Url });
        Assert.That(plain.Status, Is.EqualTo(407), "for plain http the proxy's 407 is the response, as aiohttp");
        plain.Release();
    }

    [Test]
    public void An_unreachable_proxy_is_a_ClientProxyConnectionError()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<ClientProxyConnectionError>(async () => await session.Get(_http.Url("hello"), new RequestOptions { Proxy = $"http://127.0.0.1:{port}" }));
        Assert.That(e!.Port, Is.EqualTo(port));
        Assert.That(e.Message, Is.EqualTo($"Cannot connect to host 127.0.0.1:{port} [proxy: {e.InnerException!.Message}]"), "the host once, no nested brackets");
    }

    [Test]
    public void Only_http_proxies_are_accepted()
    {
        using var session = new ClientSession();
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Get(_http.Url("hello"), new RequestOptions { Proxy = "https://127.0.0.1:1" }));
    }

    [Test]
    public async Task Pooled_proxy_connections_are_keyed_by_proxy_and_credentials()
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new ProxyConnector(_open.Url, options: new ProxyConnectorOptions { ForceClose = false }) });
        await session.Get(_http.Url("hello")).SelectMany(r => r.Text());
        await session.Get(_http.Url("hello")).SelectMany(r => r.Text());
        var key = session.Connector.CurrentState;
        Assert.That(key.Idle, Is.EqualTo(1), "reused through the proxy");
        Assert.That(Http1Exchange.KeyFor(new ClientRequest("GET", _http.Url("hello"))).Proxy, Is.Null);
        var viaA = new ProxySettings(_open.Url, new NetworkCredential("a", "1")).KeyFor(_http.Url("x"), null);
        var viaB = new ProxySettings(_open.Url, new NetworkCredential("b", "1")).KeyFor(_http.Url("x"), null);
        Assert.That(viaA, Is.Not.EqualTo(viaB));
        Assert.That(viaA, Is.EqualTo(new ProxySettings(_open.Url, new NetworkCredential("a", "1")).KeyFor(_http.Url("x"), null)));
    }

    [Test]
    public async Task Trust_env_reads_http_proxy_and_honours_no_proxy()
    {
        var saved = new[] { "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY" }.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var n in saved.Keys) Environment.SetEnvironmentVariable(n, null);
            Environment.SetEnvironmentVariable("HTTP_PROXY", _open.Url);
            await using (var trusting = new ClientSession(new ClientSessionOptions { TrustEnv = true }))
                Assert.That((await EchoHeaders(trusting.Get(_http.Url("echo")))).ContainsKey("Via"), Is.True);
            await using (var ignoring = new ClientSession())
                Assert.That((await EchoHeaders(ignoring.Get(_http.Url("echo")))).ContainsKey("Via"), Is.False, "TrustEnv is off by default");
            Environment.SetEnvironmentVariable("no_proxy", "localhost,127.0.0.1");
            await using (var bypass = new ClientSession(new ClientSessionOptions { TrustEnv = true }))
                Assert.That((await EchoHeaders(bypass.Get(_http.Url("echo")))).ContainsKey("Via"), Is.False);
        }
        finally
        {
            foreach (var (n, v) in saved) Environment.SetEnvironmentVariable(n, v);
        }
    }
}

[TestFixture]
public class ProxyEnvironmentTests
{
    private static ProxySettings? For(string url, params (string Name, string Value)[] env)
    {
        var d = env.ToDictionary(e => e.Name, e => e.Value);
        return ProxyEnvironment.For(Url.Parse(url), n => d.GetValueOrDefault(n));
    }

    [Test]
    public void Scheme_selects_the_variable_and_lower_case_wins()
    {
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://up:1"))?.Url.Port, Is.EqualTo(1));
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://up:1"), ("http_proxy", "http://low:2"))?.Url.Host, Is.EqualTo("low"));
        Assert.That(For("https://a.test/", ("HTTP_PROXY", "http://up:1")), Is.Null);
        Assert.That(For("https://a.test/", ("HTTPS_PROXY", "http://s:3"))?.Url.Port, Is.EqualTo(3));
        Assert.That(For("wss://a.test/", ("WSS_PROXY", "http://w:4"))?.Url.Port, Is.EqualTo(4));
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "socks5://s:5"))?.Url.ToString(), Is.EqualTo("socks5://s:5/"), "SOCKS proxies are used too");
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "ftp://s:5")), Is.Null, "a scheme RxHttp does not speak is ignored");
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://u:p@up:1"))?.Auth?.Password, Is.EqualTo("p"));
    }

    [TestCase("proxy.corp:3128", "proxy.corp", 3128)]
    [TestCase("10.0.0.1:8080", "10.0.0.1", 8080)]
    [TestCase("u:p@proxy.corp:3128", "proxy.corp", 3128)]
    [TestCase("proxy.corp", "proxy.corp", 80)]
    public void A_proxy_without_a_scheme_is_an_http_proxy(string value, string host, int port)
    {
        // curl and HttpClient read "host:port" as http://host:port; ignoring it would send the requests direct.
        var proxy = For("https://a.test/", ("HTTPS_PROXY", value));
        Assert.That((proxy?.Url.Scheme, proxy?.Url.Host, proxy?.Url.Port), Is.EqualTo(((string?)"http", (string?)host, (int?)port)));
    }

    [Test]
    public void A_proxy_without_credentials_takes_them_from_netrc()
    {
        // aiohttp's proxies_from_env looks the proxy's host up in netrc when its URL carries no credentials.
        static ProxySettings? For(string url, params (string Name, string Value)[] env)
        {
            var d = env.ToDictionary(e => e.Name, e => e.Value);
            return ClientSession.EnvironmentProxy(Url.Parse(url), n => d.GetValueOrDefault(n));
        }

        var dir = Directory.CreateTempSubdirectory("rxhttp-proxy-netrc").FullName;
        try
        {
            var netrc = Path.Combine(dir, "netrc");
            File.WriteAllText(netrc, "machine proxy.corp login alice password s3cret\n");
            Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://proxy.corp:3128"), ("NETRC", netrc))?.AuthorizationHeader,
                Is.EqualTo("Basic " + Convert.ToBase64String("alice:s3cret"u8.ToArray())));
            Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://bob:pw@proxy.corp:3128"), ("NETRC", netrc))?.Auth?.UserName, Is.EqualTo("bob"), "the URL's own win");
            Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://other.corp:3128"), ("NETRC", netrc))?.Auth, Is.Null);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestCase("REQUEST_METHOD")]
    [TestCase("GATEWAY_INTERFACE")]
    public void Under_cgi_upper_case_HTTP_PROXY_is_ignored(string cgiVariable)
    {
        // httpoxy (CVE-2016-1000110): a CGI server puts a request's "Proxy:" header in HTTP_PROXY.
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://evil:1"), (cgiVariable, "GET")), Is.Null);
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://evil:1"), ("http_proxy", "http://low:2"), (cgiVariable, "GET"))?.Url.Host, Is.EqualTo("low"));
        Assert.That(For("http://a.test/", ("HTTP_PROXY", "http://evil:1"), ("ALL_PROXY", "http://all:3"), (cgiVariable, "GET"))?.Url.Host, Is.EqualTo("all"));
        Assert.That(For("https://a.test/", ("HTTPS_PROXY", "http://s:3"), (cgiVariable, "GET"))?.Url.Port, Is.EqualTo(3), "no header maps to HTTPS_PROXY");
    }

    [TestCase("a.test", "http://a.test/", true)]
    [TestCase("test", "http://a.test/", true)]
    [TestCase(".test", "http://a.test/", true)]
    [TestCase("b.test", "http://a.test/", false)]
    [TestCase("xa.test", "http://a.test/", false)]
    [TestCase("*", "http://a.test/", true)]
    [TestCase("a.test:8080", "http://a.test:8080/", true)]
    [TestCase("a.test:8080", "http://a.test:9090/", false)]
    [TestCase(" other , a.test ", "http://a.test/", true)]
    [TestCase("::1", "http://[::1]/", true)]
    [TestCase("[::1]", "http://[::1]/", true)]
    [TestCase("[::1]:8080", "http://[::1]:8080/", true)]
    [TestCase("[::1]:8080", "http://[::1]:9090/", false)]
    [TestCase("0:0:0:0:0:0:0:1", "http://[::1]/", true)]
    [TestCase("[::1]", "http://[::2]/", false)]
    [TestCase("fe80::1", "http://[fe80::1%25eth0]/", true)]
    [TestCase("[::1]", "http://a.test/", false)]
    public void No_proxy_matching(string noProxy, string url, bool bypass) =>
        Assert.That(ProxyEnvironment.Bypass(Url.Parse(url), noProxy), Is.EqualTo(bypass));
}
