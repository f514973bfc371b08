using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

[TestFixture]
public class UnixConnectorTests
{
    [Test]
    public async Task Http_over_a_unix_socket_uses_the_url_host_only_for_the_host_header()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rxhttp-{Guid.NewGuid():N}.sock");
        await using var server = await KestrelServer.StartAsync(extraRoutes: app => app.MapGet("/host", (HttpContext c) => c.Request.Host.Value), unixSocket: path);
        try
        {
            await using var session = new ClientSession(new ClientSessionOptions { Connector = new UnixConnector(path) });
            Assert.That(await session.Get("http://docker.invalid/host").SelectMany(r => r.Text()), Is.EqualTo("docker.invalid"));
            Assert.That(await session.Get("http://docker.invalid/hello").SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
            Assert.That(server.ConnectionCount, Is.EqualTo(1), "pooled like TCP");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task A_missing_socket_is_a_ClientConnectorError()
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new UnixConnector("/nonexistent/rxhttp.sock") });
        var e = Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://localhost/"));
        Assert.That(e!.Message, Does.Contain("/nonexistent/rxhttp.sock"));
        Assert.That(e.InnerException, Is.InstanceOf<System.Net.Sockets.SocketException>());
        Assert.That(e.Message, Is.EqualTo($"Cannot connect to host localhost:80 [unix socket /nonexistent/rxhttp.sock: {e.InnerException!.Message}]"));
    }

    [Test]
    public async Task A_socket_path_longer_than_the_platform_allows_is_a_ClientConnectorError()
    {
        var path = "/tmp/" + new string('x', 200) + ".sock";
        var connector = new UnixConnector(path);
        await using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        var e = Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://localhost/"));
        Assert.That(e!.Message, Does.Contain(path));
        Assert.That(connector.CurrentState.Opening, Is.EqualTo(0));
    }
}
