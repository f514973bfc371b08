using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

/// <summary>netrc credentials under TrustEnv, as aiohttp 3.9+: NETRC names the file; used only when nothing else authenticates.</summary>
[TestFixture]
[NonParallelizable] // sets NETRC and no_proxy for the process
public class NetrcTests
{
    private string _dir = null!;
    private readonly Dictionary<string, string?> _saved = new();

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("rxhttp-netrc").FullName;
        foreach (var name in new[] { "NETRC", "no_proxy", "NO_PROXY" }) _saved[name] = Environment.GetEnvironmentVariable(name);
        // TrustEnv also reads proxies: none for this loopback server.
        Environment.SetEnvironmentVariable("no_proxy", "*");
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        Directory.Delete(_dir, recursive: true);
    }

    private string WriteNetrc(string text)
    {
        var path = Path.Combine(_dir, "netrc");
        File.WriteAllText(path, text);
        Environment.SetEnvironmentVariable("NETRC", path);
        return path;
    }

    private static async Task<string?> SentAuthorization(ClientSession session, string url, RequestOptions? options = null, RawServer? server = null)
    {
        await session.Get(url, options).Select(r => r.Status);
        var request = server!.Requests[^1];
        return request.Split("\r\n").FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))?[14..].Trim();
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [Test]
    public async Task The_machine_entry_of_the_host_gives_basic_credentials()
    {
        WriteNetrc("# comment line\nmachine other.example login x password y\nmachine 127.0.0.1\n  login alice\n  password \"s3 cret\"\n\ndefault login anon password guest\n");
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { TrustEnv = true });
        Assert.That(await SentAuthorization(session, server.Url(), server: server), Is.EqualTo(Basic("alice", "s3 cret")));
    }

    [Test]
    public async Task A_redirect_to_another_host_sends_that_hosts_entry_not_the_first_ones()
    {
        WriteNetrc("machine front.test login alice password one\nmachine back.test login bob password two\n");
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("GET /start ")
                    ? $"HTTP/1.1 302 Found\r\nLocation: http://back.test:{((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Port}/end\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        var connector = new TcpConnector(new TcpConnectorOptions { Resolver = new RxHttp.Tests.Connectors.FakeResolver(System.Net.IPAddress.Loopback) });
        using var session = new ClientSession(new ClientSessionOptions { TrustEnv = true, Connector = connector });
        await session.Get($"http://front.test:{server.Port}/start").Select(r => r.Status);
        var sent = server.Requests.Select(r => r.Split("\r\n").FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))?[14..].Trim());
        Assert.That(sent, Is.EqualTo(new[] { Basic("alice", "one"), Basic("bob", "two") }), "looked up per host, as aiohttp per request");
    }

    [Test]
    public async Task A_password_beyond_latin1_is_sent_as_the_files_utf8_not_as_question_marks()
    {
        WriteNetrc("machine 127.0.0.1 login alice password \u043f\u0430\u0440\u043e\u043b\u044c\n");
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { TrustEnv = true });
        Assert.That(await SentAuthorization(session, server.Url(), server: server), Is.EqualTo(Basic("alice", "\u043f\u0430\u0440\u043e\u043b\u044c")));
    }

    [Test]
    public async Task The_default_entry_answers_for_any_other_host_and_macdef_bodies_are_skipped()
    {
        WriteNetrc("macdef init\ncd /pub\nmachine 127.0.0.1 login trap password trap\n\nmachine other.example login x password y\ndefault login anon password guest\n");
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { TrustEnv = true });
        Assert.That(await SentAuthorization(session, server.Url(), server: server), Is.EqualTo(Basic("anon", "guest")));
    }

    [Test]
    public async Task Explicit_credentials_and_a_session_without_TrustEnv_do_not_read_it()
    {
        WriteNetrc("machine 127.0.0.1 login alice password secret\n");
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var trusting = new ClientSession(new ClientSessionOptions { TrustEnv = true });
        Assert.That(await SentAuthorization(trusting, server.Url(), new RequestOptions { Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer t" } }, server),
            Is.EqualTo("Bearer t"));
        Assert.That(await SentAuthorization(trusting, server.Url(), new RequestOptions { Auth = new BasicAuth("bob", "pw") }, server), Is.EqualTo(Basic("bob", "pw")));
        Assert.That(await SentAuthorization(trusting, $"http://carol:pw@127.0.0.1:{server.Port}/", server: server), Is.EqualTo(Basic("carol", "pw")));
        using var plain = new ClientSession();
        Assert.That(await SentAuthorization(plain, server.Url(), server: server), Is.Null);
    }

    [Test]
    public async Task A_missing_or_malformed_file_gives_no_credentials()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { TrustEnv = true });
        Environment.SetEnvironmentVariable("NETRC", Path.Combine(_dir, "absent"));
        Assert.That(await SentAuthorization(session, server.Url(), server: server), Is.Null);
        WriteNetrc("machine 127.0.0.1 login alice password secret bogus-token\n");
        Assert.That(await SentAuthorization(session, server.Url(), server: server), Is.Null);
    }
}
