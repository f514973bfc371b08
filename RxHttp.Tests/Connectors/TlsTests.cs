using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>TLS against Kestrel with certificates made in the test.</summary>
[TestFixture]
public class TlsTests
{
    private static async Task<string> GetText(KestrelServer server, TlsOptions tls, string path = "hello")
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = tls }) });
        return await session.Get(server.Url(path)).SelectMany(r => r.Text());
    }

    [Test]
    public async Task Verification_is_on_by_default_and_a_self_signed_certificate_fails()
    {
        await using var server = await KestrelServer.StartAsync(certificate: KestrelServer.MakeCertificate());
        Assert.ThrowsAsync<ClientConnectorCertificateError>(() => GetText(server, TlsOptions.Default));
        Assert.That(await GetText(server, TlsOptions.NoVerify), Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task An_ip_literal_matching_an_ip_san_is_not_reported_as_a_name_mismatch()
    {
        // The server is reached as 127.0.0.1, which the certificate names: only its chain is wrong.
        await using var server = await KestrelServer.StartAsync(certificate: KestrelServer.MakeCertificate());
        var e = Assert.ThrowsAsync<ClientConnectorCertificateError>(() => GetText(server, TlsOptions.Default));
        Assert.That(e!.Message, Does.Contain("RemoteCertificateChainErrors").And.Not.Contain("NameMismatch"));
    }

    [Test]
    public async Task A_custom_root_is_trusted()
    {
        var ca = KestrelServer.MakeCertificate("Test Root", isCa: true);
        var leaf = KestrelServer.MakeCertificate("localhost", issuer: ca);
        await using var server = await KestrelServer.StartAsync(certificate: leaf);
        var tls = new TlsOptions { TrustedRoots = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(ca.RawData)) };
        Assert.That(await GetText(server, tls), Is.EqualTo(KestrelServer.Hello));
        var otherRoot = KestrelServer.MakeCertificate("Other Root", isCa: true);
        Assert.ThrowsAsync<ClientConnectorCertificateError>(() => GetText(server, new TlsOptions { TrustedRoots = new X509Certificate2Collection(otherRoot) }));
    }

    [Test]
    public async Task A_custom_root_is_trusted_through_the_intermediate_the_server_sends()
    {
        var root = KestrelServer.MakeCertificate("Test Root", isCa: true);
        var intermediate = KestrelServer.MakeCertificate("Test Intermediate", issuer: root, isCa: true);
        var leaf = KestrelServer.MakeCertificate("localhost", issuer: intermediate);
        await using var server = await KestrelServer.StartAsync(certificate: leaf, configure: k => k.ConfigureHttpsDefaults(o =>
            o.ServerCertificateChain = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(intermediate.RawData))));
        var tls = new TlsOptions { TrustedRoots = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(root.RawData)) };
        Assert.That(await GetText(server, tls), Is.EqualTo(KestrelServer.Hello), "the root is reached through the intermediate in the handshake");
    }

    [Test]
    public async Task Pinning_accepts_the_matching_fingerprint_and_rejects_another()
    {
        var cert = KestrelServer.MakeCertificate();
        await using var server = await KestrelServer.StartAsync(certificate: cert);
        var sha256 = SHA256.HashData(cert.RawData);
        Assert.That(await GetText(server, new TlsOptions { VerifyCertificate = false, Fingerprint = sha256 }), Is.EqualTo(KestrelServer.Hello));
        Assert.That(await GetText(server, new TlsOptions { VerifyCertificate = false, Fingerprint = SHA1.HashData(cert.RawData) }), Is.EqualTo(KestrelServer.Hello), "SHA-1 pins still accepted");
        var wrong = (byte[])sha256.Clone();
        wrong[0] ^= 0xFF;
        var e = Assert.ThrowsAsync<ServerFingerprintMismatch>(() => GetText(server, new TlsOptions { VerifyCertificate = false, Fingerprint = wrong }));
        Assert.That(e!.Got, Is.EqualTo(sha256));
        Assert.That(e.Expected, Is.EqualTo(wrong));
        Assert.Throws<ArgumentException>(() => _ = new TlsOptions { Fingerprint = new byte[7] });
    }

    [Test]
    public async Task Server_hostname_overrides_sni_and_the_name_checked()
    {
        var cert = KestrelServer.MakeCertificate("rx.test");
        string? sni = null;
        await using var server = await KestrelServer.StartAsync(certificate: cert, configure: k => k.ConfigureHttpsDefaults(o =>
            o.ServerCertificateSelector = (_, name) =>
            {
                sni = name;
                return cert;
            }));
        var roots = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(cert.RawData));
        Assert.That(await GetText(server, new TlsOptions { TrustedRoots = roots, ServerHostname = "rx.test" }), Is.EqualTo(KestrelServer.Hello));
        Assert.That(sni, Is.EqualTo("rx.test"));
        Assert.ThrowsAsync<ClientConnectorCertificateError>(() => GetText(server, new TlsOptions { TrustedRoots = roots, ServerHostname = "other.test" }));
    }

    [Test]
    public async Task A_client_certificate_is_offered_when_the_server_asks()
    {
        var serverCert = KestrelServer.MakeCertificate();
        var clientCert = KestrelServer.MakeCertificate("client");
        await using var server = await KestrelServer.StartAsync(
            extraRoutes: app => app.MapGet("/whoami", (HttpContext c) => c.Connection.ClientCertificate?.Thumbprint ?? "none"),
            certificate: serverCert,
            configure: k => k.ConfigureHttpsDefaults(o =>
            {
                o.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                o.AllowAnyClientCertificate();
            }));
        var tls = new TlsOptions { VerifyCertificate = false, ClientCertificates = new X509CertificateCollection { clientCert } };
        Assert.That(await GetText(server, tls, "whoami"), Is.EqualTo(clientCert.Thumbprint));
        Assert.That(async () => await GetText(server, TlsOptions.NoVerify, "whoami"), Throws.InstanceOf<ClientError>(), "no certificate: the server refuses");
    }

    [Test]
    public async Task Per_request_tls_settings_use_their_own_pool_bucket()
    {
        var cert = KestrelServer.MakeCertificate();
        await using var server = await KestrelServer.StartAsync(certificate: cert);
        await using var session = new ClientSession();
        var ok = new RequestOptions { Tls = new TlsOptions { VerifyCertificate = false, Fingerprint = SHA256.HashData(cert.RawData) } };
        Assert.That(await session.Get(server.Url("hello"), ok).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.ThrowsAsync<ClientConnectorCertificateError>(async () => await session.Get(server.Url("hello")), "the default settings never reuse the pinned connection");
    }
}
