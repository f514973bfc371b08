using System.Net.Sockets;

namespace RxHttp.Cli;

/// <summary>httpie's exit codes and one readable line for every way a run can fail.</summary>
internal static class Failure
{
    public const int Ok = 0, Error = 1, Timeout = 2, Redirect = 3, ClientStatus = 4, ServerStatus = 5, TooManyRedirects = 6, Interrupted = 130;

    /// <summary>The exit code for a response status under --check-status (0 for 1xx/2xx, and beyond 599 as in httpie).</summary>
    public static int ForStatus(int status) => status switch { >= 600 => Ok, >= 500 => ServerStatus, >= 400 => ClientStatus, >= 300 => Redirect, _ => Ok };

    public static (int Code, string Message) Describe(Exception e, bool interrupted)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        var (code, message) = e switch
        {
            OperationCanceledException when interrupted => (Interrupted, "interrupted"),
            UsageException => (Error, e.Message),
            // History ends with the redirect that was refused, so one fewer was followed.
            TooManyRedirects t => (TooManyRedirects, $"too many redirects ({t.History.Count - 1} followed, the limit; raise --max-redirects)"),
            ServerTimeoutError => (Timeout, $"timed out: {e.Message}"),
            ClientConnectorDnsError d => (Error, $"cannot resolve host '{d.Host}': {Inner(e)}"),
            ServerFingerprintMismatch => (Error, $"TLS failure: {e.Message}"),
            // The hint only where the certificate was the trouble: a server that does not speak TLS fails with --verify no too.
            ClientConnectorCertificateError s => (Error, $"TLS failure with {s.Host}:{s.Port}: {Inner(e)} (--verify no skips the check; --cacert FILE trusts a CA)"),
            ClientSslError s => (Error, $"TLS failure with {s.Host}:{s.Port}: {Inner(e)}"),
            ClientProxyConnectionError p => (Error, $"cannot connect to proxy {p.Host}:{p.Port}: {Inner(e)}"),
            ClientHttpProxyError p => (Error, $"the proxy refused: {p.Message}"),
            ClientConnectorError c => (Error, $"cannot connect to {c.Host}:{c.Port}: {Inner(e)}"),
            InvalidUrl => (Error, $"bad URL: {e.Message}"),
            WsServerHandshakeError w => (Error, $"websocket handshake failed: {w.Message}"),
            ClientError => (Error, e.Message),
            InvalidDataException or IOException or UnauthorizedAccessException => (Error, e.Message),
            ArgumentException => (Error, e.Message),
            _ => (Error, $"{e.GetType().Name}: {e.Message}"),
        };
        return (code, OneLine(message));
    }

    private static string Inner(Exception e) =>
        e.InnerException switch
        {
            SocketException s => s.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData => "no such host",
                SocketError.TimedOut => "timed out",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
                _ => s.Message,
            },
            { } inner => inner.InnerException is { } deeper ? inner.Message + ": " + deeper.Message : inner.Message,
            null => e.Message,
        };

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
