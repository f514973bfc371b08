using System.Security.Cryptography.X509Certificates;

namespace RxHttp.Cli;

/// <summary>The <see cref="ClientSession"/> a command line asks for: connector, TLS, timeouts, cookie jar.</summary>
internal static class SessionFactory
{
    public static ClientSession Create(CliSettings s, BaseConnector? connector, CookieJar jar)
    {
        connector ??= s.UnixSocket is { } path
            ? new UnixConnector(path, new ConnectorOptions { ForceClose = true })
            : new TcpConnector(new TcpConnectorOptions { Tls = Tls(s), ForceClose = true });
        return new ClientSession(new ClientSessionOptions
        {
            Connector = connector,
            CookieJar = jar,
            Timeout = Timeout(s),
            MaxRedirects = s.MaxRedirects,
            UserAgent = "rxhttp/" + Version,
        });
    }

    public static string Version => typeof(SessionFactory).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";

    /// <summary>
    /// httpie's --timeout is the longest silence, connecting or reading; curl's --max-time bounds the whole exchange.
    /// Without either there is no limit, as in both tools (a download may take hours).
    /// </summary>
    public static ClientTimeout Timeout(CliSettings s) => new()
    {
        Total = Span(s.MaxTime),
        Connect = Span(s.ConnectTimeout),
        SockConnect = Span(s.Timeout ?? s.ConnectTimeout),
        SockRead = Span(s.Timeout),
        // The user's seconds are meant exactly; no rounding up to the next whole second.
        CeilThreshold = TimeSpan.MaxValue,
    };

    private static TimeSpan? Span(double? seconds) => seconds is { } v ? TimeSpan.FromSeconds(v) : null;

    public static TlsOptions Tls(CliSettings s)
    {
        var verify = s.Verify.ToLowerInvariant();
        X509Certificate2Collection? roots = null;
        if (verify is not ("yes" or "true" or "no" or "false")) roots = LoadPem(s.Verify, "--verify");
        if (s.CaCert is { } ca) roots = LoadPem(ca, "--cacert");
        X509CertificateCollection? client = null;
        if (s.Cert is { } cert) client = new X509CertificateCollection { LoadClientCertificate(cert, s.CertKey) };
        return new TlsOptions
        {
            VerifyCertificate = verify is not ("no" or "false"),
            TrustedRoots = roots,
            ClientCertificates = client,
        };
    }

    private static X509Certificate2Collection LoadPem(string path, string option)
    {
        if (!File.Exists(path)) throw new UsageException($"{option}: no such file '{path}'");
        var c = new X509Certificate2Collection();
        try { c.ImportFromPemFile(path); }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException) { throw new UsageException($"{option}: '{path}' holds no PEM certificate ({e.Message})"); }
        if (c.Count == 0) throw new UsageException($"{option}: '{path}' holds no PEM certificate");
        return c;
    }

    private static X509Certificate2 LoadClientCertificate(string path, string? keyPath)
    {
        if (!File.Exists(path)) throw new UsageException($"--cert: no such file '{path}'");
        try
        {
            var ext = Path.GetExtension(path).ToLowerInvariant();
            if (ext is ".pfx" or ".p12") return X509CertificateLoader.LoadPkcs12FromFile(path, null);
            using var pem = X509Certificate2.CreateFromPemFile(path, keyPath ?? path);
            // SslStream on Linux wants a certificate whose key is not ephemeral: round-trip through PKCS#12.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new UsageException($"--cert: cannot load '{path}' ({e.Message})");
        }
    }
}
