using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Diagnostics;

/// <summary>RxHttp's own websocket figures (rxhttp.websocket.*) through a MeterListener, against Kestrel's echo endpoint.</summary>
[TestFixture]
public class WebSocketMetricsTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await WsServers.StartKestrelAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task An_open_websocket_counts_as_active_and_its_messages_are_counted_by_type()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(_server.Url("ws/echo").Replace("http://", "ws://"));
        Assert.That(recorder.Sum("rxhttp.websocket.active"), Is.EqualTo(1));
        await ws.SendStr("one");
        await ws.SendBytes(new byte[] { 1, 2 });
        await ws.ReceiveAsync();
        await ws.ReceiveAsync();
        await ws.Close();
        Assert.That(recorder.Sum("rxhttp.websocket.active"), Is.EqualTo(0));
        Assert.That(recorder.Of("rxhttp.websocket.messages_sent").Select(m => m.Tag("rxhttp.websocket.message.type")), Is.EquivalentTo(new[] { "text", "binary" }));
        Assert.That(recorder.Of("rxhttp.websocket.messages_received").Select(m => m.Tag("rxhttp.websocket.message.type")), Is.EquivalentTo(new[] { "text", "binary" }));
        // The handshake's connection left the HTTP pool's count when the websocket took it over.
        Assert.That(recorder.Sum("http.client.open_connections"), Is.EqualTo(0));
        await ws.DisposeAsync();
    }
}
