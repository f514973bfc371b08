using System.Net.Security;
using System.Reactive.Linq;
using System.Security.Cryptography.X509Certificates;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A refused certificate says why, as aiohttp ("certificate has expired") and HttpClient ("NotTimeValid") do: the
/// runtime's own exception only says that the validation callback said no.
/// </summary>
[TestFixture]
public class TlsVerifyFailureTests
{
    private static readonly X509Certificate2 Root = KestrelServer.MakeCertificate("Verify Root", isCa: true, notBefore: DateTimeOffset.UtcNow.AddDays(-30));

    private static TlsOptions TrustRoot(string? serverHostname = null) => new()
    {
        TrustedRoots = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(Root.RawData)),
        ServerHostname = serverHostname,
    };

    private static async Task<ClientConnectorCertificateError> Refused(X509Certificate2 leaf, TlsOptions tls)
    {
        await using var server = await KestrelServer.StartAsync(certificate: leaf);
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Tls = tls }) });
        var e = Assert.ThrowsAsync<ClientConnectorCertificateError>(async () => await session.Get(server.Url("hello")));
        Assert.That(e!.InnerException, Is.InstanceOf<System.Security.Authentication.AuthenticationException>());
        return e;
    }

    [Test]
    public async Task An_expired_certificate_is_reported_as_expired()
    {
        var leaf = KestrelServer.MakeCertificate("localhost", Root, notBefore: DateTimeOffset.UtcNow.AddDays(-20), notAfter: DateTimeOffset.UtcNow.AddDays(-10));
        var e = await Refused(leaf, TrustRoot());
        Assert.That(e.ChainStatus, Is.EqualTo(X509ChainStatusFlags.NotTimeValid), "judged by the TrustedRoots chain, so no UntrustedRoot");
        Assert.That(e.PolicyErrors, Is.EqualTo(SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.That(e.Message, Does.Contain("NotTimeValid: ").And.Contain("expired"));
    }

    [Test]
    public async Task A_certificate_not_yet_valid_is_reported_as_such()
    {
        var leaf = KestrelServer.MakeCertificate("localhost", Root, notBefore: DateTimeOffset.UtcNow.AddDays(10), notAfter: DateTimeOffset.UtcNow.AddDays(20));
        var e = await Refused(leaf, TrustRoot());
        Assert.That(e.ChainStatus, Is.EqualTo(X509ChainStatusFlags.NotTimeValid));
        Assert.That(e.Message, Does.Contain("not yet valid"));
    }

    [Test]
    public async Task A_wrong_name_under_a_trusted_root_is_only_a_name_mismatch()
    {
        var e = await Refused(KestrelServer.MakeCertificate("localhost", Root), TrustRoot("other.test"));
        Assert.That(e.PolicyErrors, Is.EqualTo(SslPolicyErrors.RemoteCertificateNameMismatch), "the chain to the TrustedRoots root is sound");
        Assert.That(e.ChainStatus, Is.EqualTo(X509ChainStatusFlags.NoError));
        Assert.That(e.Message, Does.EndWith("certificate verify failed: RemoteCertificateNameMismatch (certificate is not valid for 'other.test')]"));
    }

    [Test]
    public async Task An_unknown_root_and_a_wrong_name_are_both_named()
    {
        // Self-signed, and reached under a name it does not hold.
        var e = await Refused(KestrelServer.MakeCertificate(), new TlsOptions { ServerHostname = "other.test" });
        Assert.That(e.PolicyErrors, Is.EqualTo(SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.That(e.ChainStatus.HasFlag(X509ChainStatusFlags.UntrustedRoot), e.Message);
        Assert.That(e.Message, Does.Contain("certificate is not valid for 'other.test'").And.Contain("UntrustedRoot: "));
    }
}
