using System.Text;

namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>
    /// The URL as requested for this response, with its fragment (aiohttp's <c>real_url</c>): the URL given to the
    /// verb, or the Location of the last redirect. <see cref="Url"/> is the one sent, without the fragment.
    /// </summary>
    public Url RealUrl => RequestInfo.RealUrl;

    /// <summary>
    /// The response headers as received (aiohttp's <c>raw_headers</c>): name and value bytes of each header line, in
    /// order, with the case of the names as the server sent it. <see cref="Headers"/> is the decoded, case-insensitive view.
    /// </summary>
    public IReadOnlyList<(byte[] Name, byte[] Value)> RawHeaders
    {
        get
        {
            // Built when asked: the strings give the bytes back (ASCII, or UTF-8 as decoded), except for the headers
            // the head builder kept the bytes of (a name in other case than its interned string, a Latin-1 value).
            var exceptions = _extras?.RawExceptions;
            var headers = Headers.Span;
            var raw = new (byte[] Name, byte[] Value)[headers.Length];
            for (var i = 0; i < raw.Length; i++) raw[i] = (Encoding.ASCII.GetBytes(headers[i].Key), Encoding.UTF8.GetBytes(headers[i].Value));
            if (exceptions is not null)
                foreach (var (index, name, value) in exceptions)
                    if (index < raw.Length) raw[index] = (name, value);
            return raw;
        }
    }

    internal List<(int Index, byte[] Name, byte[] Value)>? RawExceptions
    {
        init
        {
            if (value is not null) GetExtras().RawExceptions = value;
        }
    }

    /// <summary>aiohttp's read_bufsize default, which the session option's default is.</summary>
    internal const int DefaultReadBufferSize = 64 * 1024;

    /// <summary>This response's read buffer size (the session's or request's ReadBufferSize); 0 on init means the default.</summary>
    internal int ReadBufferSize
    {
        get => _extras?.ReadBufferSize is > 0 and var size ? size : DefaultReadBufferSize;
        init
        {
            if (value > 0 && value != DefaultReadBufferSize) GetExtras().ReadBufferSize = value;
        }
    }
}
