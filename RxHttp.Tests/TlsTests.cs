using System.Reactive.Linq;
using System.Security.Cryptography.X509Certificates;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

[TestFixture]
public class TlsTests
{
    private KestrelServer _server = null!;
    private X509Certificate2 _cert = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _cert = KestrelServer.MakeCertificate();
        _server = await KestrelServer.StartAsync(certificate: _cert);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public void Self_signed_certificate_is_rejected_by_default()
    {
        using var session = new ClientSession();
        var ex = Assert.ThrowsAsync<ClientConnectorCertificateError>(async () => await session.Get(_server.Url("hello")).Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(ex!.Port, Is.EqualTo(_server.Port));
        Assert.That(session.Connector.CurrentState.Open, Is.Zero);
    }

    [Test]
    public async Task Verification_off_accepts_it()
    {
        using var session = new ClientSession();
        var text = await session.Get(_server.Url("hello"), new() { Tls = TlsOptions.NoVerify }).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task Trusting_the_certificate_accepts_it_and_keeps_alive()
    {
        var tls = new TlsOptions { TrustedRoots = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(_cert.RawData)) };
        using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = tls }) });
        var before = _server.ConnectionCount;
        for (var i = 0; i < 3; i++)
            Assert.That(await session.Get(_server.Url("hello")).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(_server.ConnectionCount - before, Is.EqualTo(1));
    }
}
