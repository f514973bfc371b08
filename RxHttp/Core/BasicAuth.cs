using System.Text;

namespace RxHttp;

/// <summary>HTTP Basic credentials (aiohttp's BasicAuth).</summary>
public sealed record BasicAuth
{
    /// <summary>Creates credentials; the login may not contain ':' (RFC 7617).</summary>
    /// <param name="login">The user name.</param>
    /// <param name="password">The password (empty allowed).</param>
    /// <param name="encoding">How both are turned into bytes before Base64 (default Latin-1, as aiohttp).</param>
    /// <exception cref="ArgumentException">The login contains ':', or <paramref name="encoding"/> cannot encode a
    /// character of the login or password (with the default Latin-1: any character above U+00FF; pass
    /// <see cref="Encoding.UTF8"/> for those).</exception>
    public BasicAuth(string login, string password = "", Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(password);
        if (login.Contains(':')) throw new ArgumentException("A ':' is not allowed in the login (RFC 7617).", nameof(login));
        Login = login;
        Password = password;
        Encoding = encoding ?? Encoding.Latin1;
        // .NET encoders replace what they cannot encode with '?', which would send other credentials than these
        // without a word; aiohttp's str.encode raises instead.
        RequireEncodable(login, Encoding, nameof(login));
        RequireEncodable(password, Encoding, nameof(password));
    }

    /// <summary>Whether <paramref name="encoding"/> turns every character of <paramref name="value"/> into bytes of its own.</summary>
    internal static bool CanEncode(string value, Encoding encoding)
    {
        var strict = (Encoding)encoding.Clone();
        strict.EncoderFallback = EncoderFallback.ExceptionFallback;
        try
        {
            strict.GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static void RequireEncodable(string value, Encoding encoding, string paramName)
    {
        if (!CanEncode(value, encoding))
            throw new ArgumentException(
                $"The {paramName} has characters that {encoding.WebName} cannot encode; pass an encoding that can (Encoding.UTF8).", paramName);
    }

    /// <summary>The user name.</summary>
    public string Login { get; }
    /// <summary>The password.</summary>
    public string Password { get; }
    /// <summary>The byte encoding of login and password.</summary>
    public Encoding Encoding { get; }

    /// <summary>The Authorization header value: <c>Basic base64(login:password)</c>.</summary>
    public string Encode() => Header(Login, Password, Encoding);

    // The one place the header is spelled out; proxy credentials and websocket handshakes use it too.
    internal static string Header(string login, string password, Encoding encoding) =>
        "Basic " + Convert.ToBase64String(encoding.GetBytes(login + ":" + password));

    /// <summary>Parses an Authorization header value back into credentials, or null when it is not Basic.</summary>
    public static BasicAuth? Decode(string header, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        var parts = header.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[0].Equals("Basic", StringComparison.OrdinalIgnoreCase)) return null;
        byte[] raw;
        try { raw = Convert.FromBase64String(parts[1]); }
        catch (FormatException) { return null; }
        var text = (encoding ?? Encoding.Latin1).GetString(raw);
        var colon = text.IndexOf(':');
        return colon < 0 ? null : new BasicAuth(text[..colon], text[(colon + 1)..], encoding);
    }

    /// <summary>The credentials of a URL's userinfo, or null when it has none.</summary>
    public static BasicAuth? FromUrl(Url url, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.User is null ? null : new BasicAuth(url.User, url.Password ?? "", encoding ?? Encoding.UTF8);
    }

    /// <inheritdoc />
    public override string ToString() => $"BasicAuth({Login}, ***)";
}
