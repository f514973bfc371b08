using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RxHttp.Transport;

/// <summary>Opens sockets and wraps them in TLS. Knows nothing of HTTP.</summary>
internal static class SocketFactory
{
    public static async Task<Socket> ConnectAsync(EndPoint endPoint, IPEndPoint? localAddress, CancellationToken ct)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint is not UnixDomainSocketEndPoint) socket.NoDelay = true;
            if (localAddress is not null) socket.Bind(localAddress);
            await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static readonly List<SslApplicationProtocol> Http11Alpn = new() { SslApplicationProtocol.Http11 };

    /// <summary>TLS over <paramref name="inner"/>: SNI, ALPN http/1.1, verification with extra roots and pinning.</summary>
    public static async Task<SslStream> TlsAsync(Stream inner, string host, int port, TlsOptions tls, bool alpnHttp11, CancellationToken ct)
    {
        var serverName = tls.ServerHostname ?? host;
        X509Certificate2? seen = null;
        SslPolicyErrors seenErrors = SslPolicyErrors.None;
        X509ChainStatus[] seenChain = [];
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var baseOptions = tls.Authentication;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = IPAddress.TryParse(serverName, out _) ? "" : serverName,
            ApplicationProtocols = baseOptions?.ApplicationProtocols ?? (alpnHttp11 ? Http11Alpn : null),
            ClientCertificates = tls.ClientCertificates ?? baseOptions?.ClientCertificates,
            EnabledSslProtocols = baseOptions?.EnabledSslProtocols ?? SslProtocols.None,
            CertificateRevocationCheckMode = baseOptions?.CertificateRevocationCheckMode ?? X509RevocationMode.NoCheck,
            CipherSuitesPolicy = baseOptions?.CipherSuitesPolicy,
            EncryptionPolicy = baseOptions?.EncryptionPolicy ?? EncryptionPolicy.RequireEncryption,
            LocalCertificateSelectionCallback = baseOptions?.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                seen = cert is null ? null : new X509Certificate2(cert);
                seenErrors = errors;
                if (baseOptions?.RemoteCertificateValidationCallback is { } custom) return custom(_, cert, chain, errors);
                if (!tls.VerifyCertificate) return true;
                // The runtime's own verdict on an IP literal says name mismatch whatever the IP SANs hold; report ours.
                if (IPAddress.TryParse(serverName, out var ip) && cert is not null) seenErrors = errors = CheckIpName(cert, ip, errors);
                if (errors == SslPolicyErrors.None) return true;
                // The runtime's exception only says the callback refused: keep the chain's own reasons (expired, not
                // yet valid, untrusted root), which aiohttp's and HttpClient's messages both carry.
                seenChain = chain?.ChainStatus ?? [];
                // Judged by the TrustedRoots chain even when the name is wrong too, so that a sound chain is not
                // reported as broken beside the mismatch.
                if (tls.TrustedRoots is { Count: > 0 } roots && cert is not null && errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors)
                    && ChainsTo(new X509Certificate2(cert), chain, roots, out seenChain))
                    seenErrors = errors &= ~SslPolicyErrors.RemoteCertificateChainErrors;
                return errors == SslPolicyErrors.None;
            },
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
        }
        catch (AuthenticationException e)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (seenErrors != SslPolicyErrors.None)
                throw CertificateError(host, port, serverName, seenErrors, seenChain, e);
            throw new ClientSslError(host, port, "TLS handshake failed: " + e.Message, e);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ClientSslError(host, port, "TLS handshake failed: " + e.Message, e);
        }
        if (tls.Fingerprint is { } pin)
        {
            var cert = seen ?? (ssl.RemoteCertificate is { } rc ? new X509Certificate2(rc) : null);
            var got = cert is null ? Array.Empty<byte>() : Fingerprint(cert.RawData, pin.Length);
            if (!CryptographicOperations.FixedTimeEquals(got, pin))
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                throw new ServerFingerprintMismatch(pin, got, host, port);
            }
        }
        return ssl;
    }

    /// <summary>The fingerprint of <paramref name="der"/> with the hash its length implies (32 SHA-256, 20 SHA-1, 16 MD5).</summary>
    public static byte[] Fingerprint(byte[] der, int length) => length switch
    {
        32 => SHA256.HashData(der),
        20 => SHA1.HashData(der),
        16 => MD5.HashData(der),
        _ => throw new ArgumentException($"A fingerprint of {length} bytes matches no supported hash (SHA-256: 32, SHA-1: 20, MD5: 16)."),
    };

    // The intermediates the server sent are in the handshake's chain; without them a leaf issued by an
    // intermediate of a custom root cannot reach it (nothing here fetches missing issuers).
    private static ClientConnectorCertificateError CertificateError(
        string host, int port, string serverName, SslPolicyErrors errors, X509ChainStatus[] chain, Exception inner)
    {
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) reasons.Add("no certificate was sent");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) reasons.Add($"certificate is not valid for '{serverName}'");
        var flags = X509ChainStatusFlags.NoError;
        foreach (var status in chain)
        {
            if (status.Status == X509ChainStatusFlags.NoError) continue;
            flags |= status.Status;
            reasons.Add($"{status.Status}: {status.StatusInformation.Trim()}");
        }
        var detail = reasons.Count == 0 ? "" : $" ({string.Join("; ", reasons.Distinct())})";
        return new ClientConnectorCertificateError(host, port, $"certificate verify failed: {errors}{detail}", inner)
        {
            PolicyErrors = errors,
            ChainStatus = flags,
        };
    }

    private static bool ChainsTo(X509Certificate2 cert, X509Chain? presented, X509Certificate2Collection roots, out X509ChainStatus[] status)
    {
        using var chain = new X509Chain();
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var built = chain.Build(cert);
        status = chain.ChainStatus;
        return built;
    }

    // .NET does not match an IP literal against the certificate's IP SANs when TargetHost is empty; do it here.
    private static SslPolicyErrors CheckIpName(X509Certificate cert, IPAddress ip, SslPolicyErrors errors)
    {
        var c2 = new X509Certificate2(cert);
        foreach (var ext in c2.Extensions)
        {
            if (ext is X509SubjectAlternativeNameExtension san && san.EnumerateIPAddresses().Any(a => a.Equals(ip)))
                return errors & ~SslPolicyErrors.RemoteCertificateNameMismatch;
        }
        return errors | SslPolicyErrors.RemoteCertificateNameMismatch;
    }
}
