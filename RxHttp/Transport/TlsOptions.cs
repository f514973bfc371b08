using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RxHttp;

/// <summary>
/// TLS settings for https and wss (aiohttp's <c>ssl=</c> argument). Verification is on by default.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The default: verify the chain and name against the system's roots.</summary>
    public static TlsOptions Default { get; } = new();

    /// <summary>No verification at all (aiohttp's <c>ssl=False</c>). For tests and trusted networks only.</summary>
    public static TlsOptions NoVerify { get; } = new() { VerifyCertificate = false };

    /// <summary>Whether the server certificate's chain and name are checked.</summary>
    public bool VerifyCertificate { get; init; } = true;

    /// <summary>Extra trust anchors: a chain ending in one of these is accepted besides the system roots.</summary>
    public X509Certificate2Collection? TrustedRoots { get; init; }

    /// <summary>
    /// Pins the server certificate by its fingerprint (SHA-256, or SHA-1/MD5 as the older API allowed; the
    /// length tells which). A mismatch fails with <see cref="ServerFingerprintMismatch"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The length is not 32, 20 or 16 bytes.</exception>
    public byte[]? Fingerprint
    {
        get => _fingerprint;
        init
        {
            if (value is not null && value.Length is not (32 or 20 or 16))
                throw new ArgumentException($"A fingerprint of {value.Length} bytes matches no supported hash (SHA-256: 32, SHA-1: 20, MD5: 16).", nameof(Fingerprint));
            _fingerprint = value?.ToArray();
        }
    }

    private readonly byte[]? _fingerprint;

    /// <summary>Overrides the name sent in SNI and checked against the certificate (aiohttp's <c>server_hostname</c>).</summary>
    public string? ServerHostname { get; init; }

    /// <summary>Certificates offered to a server that asks for client authentication.</summary>
    public X509CertificateCollection? ClientCertificates { get; init; }

    /// <summary>
    /// Full control (aiohttp's <c>ssl_context</c>): used as the base of every handshake. Target host, ALPN
    /// and the checks above are still applied on a copy.
    /// </summary>
    public SslClientAuthenticationOptions? Authentication { get; init; }
}
