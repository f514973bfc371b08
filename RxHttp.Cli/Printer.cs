using System.Text;

namespace RxHttp.Cli;

/// <summary>Where the parts of an exchange are printed, and how: raw, or coloured and formatted for a terminal.</summary>
internal sealed class Printer(Stream sink, bool colors, bool format)
{
    private const string Reset = "\u001b[0m";
    private static readonly UTF8Encoding Utf8 = new(false);

    public bool Colors => colors;
    public bool Format => format;

    public void Raw(ReadOnlySpan<byte> bytes) => sink.Write(bytes);

    public void Text(string text, string? color = null)
    {
        if (colors && color is not null) text = color + text + Reset;
        sink.Write(Utf8.GetBytes(text));
    }

    public void Flush() => sink.Flush();

    /// <summary>The request line and headers as they went out (RequestInfo lists them Host first, as sent).</summary>
    public void RequestHead(RequestInfo info, string target)
    {
        Text(info.Method, "\u001b[1;32m");
        Text(" ");
        Text(target, "\u001b[36m");
        Text(" HTTP/1.1", "\u001b[34m");
        Text("\n");
        Headers(info.Headers);
        Text("\n");
    }

    public void ResponseHead(ClientResponse r)
    {
        Text($"HTTP/{r.Version.Major}.{r.Version.Minor} ", "\u001b[34m");
        var color = r.Status switch { < 300 => "\u001b[1;32m", < 400 => "\u001b[1;33m", _ => "\u001b[1;31m" };
        Text($"{r.Status} {r.Reason}", color);
        Text("\n");
        Headers(r.Headers);
        Text("\n");
    }

    private void Headers(IEnumerable<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            Text(name, "\u001b[36m");
            Text(": " + value + "\n");
        }
    }

    /// <summary>A whole body: formatted JSON when asked and valid, a note instead of binary on a terminal, else as is.</summary>
    public void Body(byte[] body, string? contentType, bool terminal, Encoding? encoding = null)
    {
        // A terminal shows text, so a body in another charset is decoded for it (httpie too); a pipe gets the bytes.
        if (terminal && TerminalDecoder(encoding) is not null) body = Utf8.GetBytes(encoding!.GetString(body));
        // httpie's rule: binary never reaches a terminal, whatever --pretty says (raw control bytes garble it).
        if (terminal && IsBinary(body))
        {
            BinaryNote();
            return;
        }
        if (!colors && !format)
        {
            Raw(body);
            return;
        }
        var looksJson = contentType is { } t && t.Contains("json", StringComparison.OrdinalIgnoreCase)
                        || body.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'{' or (byte)'[', ..];
        // --pretty colors colours the heads only: the body keeps the server's own layout.
        if (format && looksJson && JsonPretty.Format(body, colors) is { } pretty)
        {
            Text(pretty);
            Text("\n");
            return;
        }
        Raw(body);
        if (terminal && body.Length > 0 && body[^1] != (byte)'\n') Text("\n");
    }

    public static bool IsBinary(ReadOnlySpan<byte> body) => body.IndexOf((byte)0) >= 0;

    /// <summary>A decoder for a body whose charset is not UTF-8 (nor its ASCII subset), else null: the bytes go as they are.</summary>
    public static Decoder? TerminalDecoder(Encoding? encoding) =>
        encoding is null or UTF8Encoding || encoding.CodePage == Encoding.ASCII.CodePage ? null : encoding.GetDecoder();

    /// <summary>One chunk of a streamed body, decoded; the decoder keeps a character split between chunks.</summary>
    public void Decoded(Decoder decoder, ReadOnlySpan<byte> chunk)
    {
        var chars = new char[decoder.GetCharCount(chunk, flush: false)];
        var n = decoder.GetChars(chunk, chars, flush: false);
        Text(new string(chars, 0, n));
    }

    public void BinaryNote() =>
        Text("+-----------------------------------------+\n| NOTE: binary data not shown in terminal |\n+-----------------------------------------+\n");
}
