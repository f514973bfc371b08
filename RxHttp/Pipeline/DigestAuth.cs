using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;

namespace RxHttp;

/// <summary>
/// HTTP Digest authentication (RFC 7616; aiohttp's DigestAuthMiddleware): answers a 401 Digest challenge
/// once with MD5, SHA-256 (or their -sess variants; the strongest offered) and qop=auth, then keeps the nonce for
/// later requests. A user name that is not ASCII goes as <c>username*</c> (RFC 8187), and a server's
/// <c>userhash=true</c> is honoured.
/// Add <see cref="Middleware"/> to the session's or request's middlewares.
/// </summary>
public sealed class DigestAuth
{
    private readonly string _login;
    private readonly string _password;
    private readonly Func<string> _cnonce;
    private readonly object _gate = new();
    private Challenge? _challenge;
    private string? _countedNonce; // the nonce _nonceCount counts answers to
    private int _nonceCount;

    /// <summary>Creates the authenticator.</summary>
    /// <param name="login">The user name.</param>
    /// <param name="password">The password.</param>
    /// <param name="cnonce">Makes client nonces (default: 16 random bytes as hex); tests pin it.</param>
    public DigestAuth(string login, string password, Func<string>? cnonce = null)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(password);
        _login = login;
        _password = password;
        _cnonce = cnonce ?? (() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
    }

    /// <summary>This authenticator as a middleware.</summary>
    public Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Middleware => Handle;

    /// <summary>
    /// Sends the request (with an Authorization header when a challenge from this origin is known); on a 401
    /// carrying a Digest challenge, releases it and sends once more with the answer. A body that cannot be sent
    /// twice (a stream that cannot seek) makes that answer a <see cref="ClientPayloadError"/>, as a 307 does.
    /// </summary>
    public IObservable<ClientResponse> Handle(ClientRequest request, Func<ClientRequest, IObservable<ClientResponse>> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return Observable.Defer(() =>
        {
            Challenge? known;
            lock (_gate) known = _challenge;
            var first = known is not null && known.Origin == request.Url.Origin && !request.Headers.Contains("Authorization")
                ? WithAnswer(request, known)
                : request;
            return next(first).SelectMany(response =>
            {
                if (response.Status != 401) return Observable.Return(response);
                var challenge = Parse(response.Headers.GetAll("WWW-Authenticate"), request.Url.Origin);
                // A second 401 for an answer to a fresh challenge means bad credentials: hand it to the caller.
                // Our answer to this very nonce was refused and the server does not call it stale: wrong credentials.
                if (challenge is null || (first != request && known!.Nonce == challenge.Nonce && !challenge.Stale)) return Observable.Return(response);
                lock (_gate) _challenge = challenge;
                response.Release();
                // The first send consumed it: a resend would carry an empty body under valid credentials. Not when it
                // waited for 100 Continue and the challenge came first, which is what Expect100 is for.
                if (request.Body is { IsReplayable: false } && !response.RequestBodyUnsent)
                    return Observable.Throw<ClientResponse>(new ClientPayloadError(
                        $"Cannot answer the Digest challenge of {request.Url}: the request body is a stream that cannot be sent twice."));
                return next(WithAnswer(request, challenge));
            });
        });
    }

    private ClientRequest WithAnswer(ClientRequest request, Challenge challenge)
    {
        int nc;
        // Counted per nonce, as aiohttp does: requests that met the same challenge at once each get their own count,
        // where a count restarted per 401 would send nc=00000001 twice, which a server checking replays refuses.
        lock (_gate)
        {
            if (_countedNonce != challenge.Nonce)
            {
                _countedNonce = challenge.Nonce;
                _nonceCount = 0;
            }
            nc = ++_nonceCount;
        }
        var headers = request.Headers.Clone();
        headers.Set("Authorization", Answer(challenge, request.Method, request.Url.PathAndQuery, nc, _cnonce()));
        return request.With(headers: headers);
    }

    /// <summary>The Authorization header value answering <paramref name="challenge"/> (internal so tests can check RFC 7616's examples).</summary>
    internal string Answer(Challenge challenge, string method, string uri, int nonceCount, string cnonce)
    {
        var algorithm = challenge.Algorithm.ToUpperInvariant();
        var sess = algorithm.EndsWith("-SESS", StringComparison.Ordinal);
        var hash = algorithm.StartsWith("SHA-256", StringComparison.Ordinal) ? (Func<string, string>)Sha256 : Md5;
        var ha1 = hash($"{_login}:{challenge.Realm}:{_password}");
        if (sess) ha1 = hash($"{ha1}:{challenge.Nonce}:{cnonce}");
        var ha2 = hash($"{method}:{uri}");
        var nc = nonceCount.ToString("x8");
        var qop = challenge.QopAuth ? "auth" : null;
        var response = qop is null ? hash($"{ha1}:{challenge.Nonce}:{ha2}") : hash($"{ha1}:{challenge.Nonce}:{nc}:{cnonce}:{qop}:{ha2}");
        var sb = new StringBuilder("Digest ");
        // RFC 7616 §3.4.4: a server offering userhash is sent H(username:realm) in place of the name; a name a
        // quoted-string cannot carry (not ASCII) goes as username* in RFC 8187's encoding, never as raw UTF-8.
        if (challenge.UserHash) sb.Append($"username=\"{hash($"{_login}:{challenge.Realm}")}\"");
        else if (HeaderParameters.NeedsExtended(_login)) sb.Append($"username*=UTF-8''{HeaderParameters.EncodeExtended(_login)}");
        else sb.Append($"username=\"{Escape(_login)}\"");
        sb.Append($", realm=\"{Escape(challenge.Realm)}\", nonce=\"{Escape(challenge.Nonce)}\", uri=\"{Escape(uri)}\"");
        sb.Append($", response=\"{response}\", algorithm={challenge.Algorithm}");
        if (qop is not null) sb.Append($", qop={qop}, nc={nc}, cnonce=\"{Escape(cnonce)}\"");
        if (challenge.Opaque is not null) sb.Append($", opaque=\"{Escape(challenge.Opaque)}\"");
        if (challenge.UserHash) sb.Append(", userhash=true");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
    private static string Md5(string s) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(s)));
    private static string Sha256(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    /// <summary>A parsed Digest challenge.</summary>
    internal sealed record Challenge(string Origin, string Realm, string Nonce, string Algorithm, bool QopAuth, string? Opaque, bool Stale, bool UserHash = false);

    /// <summary>
    /// The strongest Digest challenge with a supported algorithm (SHA-256 before MD5, each with its -sess variant)
    /// and qop auth or none; the first of equals.
    /// </summary>
    internal static Challenge? Parse(IEnumerable<string> headers, string origin)
    {
        // A server offering SHA-256 and MD5 (RFC 7616 §3.7) keeps MD5 for old clients: taking the first listed
        // would settle on the weak hash whenever the server happens to list it first.
        Challenge? best = null;
        foreach (var challenge in Challenges(headers, origin))
            if (best is null || Strength(challenge) > Strength(best)) best = challenge;
        return best;
    }

    private static int Strength(Challenge c) => c.Algorithm.StartsWith("SHA-256", StringComparison.OrdinalIgnoreCase) ? 2 : 1;

    private static IEnumerable<Challenge> Challenges(IEnumerable<string> headers, string origin)
    {
        foreach (var header in headers)
        {
            foreach (var (scheme, p) in SplitChallenges(header))
            {
                if (!scheme.Equals("Digest", StringComparison.OrdinalIgnoreCase)) continue;
                if (!p.TryGetValue("nonce", out var nonce)) continue;
                var algorithm = p.GetValueOrDefault("algorithm") ?? "MD5";
                if (algorithm.ToUpperInvariant() is not ("MD5" or "MD5-SESS" or "SHA-256" or "SHA-256-SESS")) continue;
                var qop = p.GetValueOrDefault("qop");
                var qopAuth = qop is not null && qop.Split(',').Any(q => q.Trim().Equals("auth", StringComparison.OrdinalIgnoreCase));
                if (qop is not null && !qopAuth) continue; // auth-int only: a body hash this client does not compute
                yield return new Challenge(origin, p.GetValueOrDefault("realm") ?? "", nonce, algorithm, qopAuth, p.GetValueOrDefault("opaque"),
                    string.Equals(p.GetValueOrDefault("stale"), "true", StringComparison.OrdinalIgnoreCase),
                    string.Equals(p.GetValueOrDefault("userhash"), "true", StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    // RFC 9110 §11.6.1: challenges are "scheme param=value, param="quoted", scheme2 ...".
    private static IEnumerable<(string Scheme, Dictionary<string, string> Params)> SplitChallenges(string header)
    {
        var i = 0;
        string? scheme = null;
        var current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (i < header.Length)
        {
            while (i < header.Length && (header[i] == ' ' || header[i] == ',')) i++;
            var start = i;
            while (i < header.Length && header[i] is not (' ' or '=' or ',')) i++;
            var token = header[start..i];
            if (token.Length == 0) break;
            var j = i;
            while (j < header.Length && header[j] == ' ') j++;
            if (j < header.Length && header[j] == '=' && scheme is not null)
            {
                i = j + 1;
                while (i < header.Length && header[i] == ' ') i++;
                string value;
                if (i < header.Length && header[i] == '"')
                {
                    var sb = new StringBuilder();
                    i++;
                    while (i < header.Length && header[i] != '"')
                    {
                        if (header[i] == '\\' && i + 1 < header.Length) i++;
                        sb.Append(header[i++]);
                    }
                    i++;
                    value = sb.ToString();
                }
                else
                {
                    var vs = i;
                    while (i < header.Length && header[i] != ',') i++;
                    value = header[vs..i].Trim();
                }
                current[token] = value;
            }
            else
            {
                if (scheme is not null) yield return (scheme, current);
                scheme = token;
                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            }
        }
        if (scheme is not null) yield return (scheme, current);
    }
}
