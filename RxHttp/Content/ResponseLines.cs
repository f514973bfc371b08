using System.Reactive.Linq;
using System.Text;

namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>The longest line <see cref="Lines"/> accepts by default: aiohttp's stream reader limit (2 × 64 KiB).</summary>
    public const int DefaultMaxLineLength = 128 * 1024;

    /// <summary>
    /// The body as lines of text, as they arrive: what aiohttp's <c>async for line in resp.content</c> and
    /// <c>readline()</c> give, for NDJSON, server-sent events or logs that stream. Lines are split on LF; a CR right
    /// before the LF is removed and no terminator is kept; a last line without LF comes too, an empty body gives no
    /// line. Decoded with <paramref name="encoding"/>, else the encoding a leading byte order mark names (the mark is no
    /// text), else the charset of Content-Type, else UTF-8 strictly (a character
    /// split between chunks decodes whole; bytes that are not UTF-8 fail with <see cref="TextDecodeError"/>, since lines
    /// are decoded as they stream, before a <see cref="ClientSessionOptions.FallbackCharsetResolver"/> could see the body). Cold and single-use like <see cref="Content"/>: disposing mid-body closes the
    /// connection. A line of more than <paramref name="maxLineLength"/> characters fails with
    /// <see cref="ClientPayloadError"/> rather than buffering without bound.
    /// </summary>
    public IObservable<string> Lines(Encoding? encoding = null, int maxLineLength = DefaultMaxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        return StreamingObservable.From(ct => IterLines(encoding, maxLineLength, ct), OnVirtualClock);
    }

    /// <summary>The pull form of <see cref="Lines"/>: the socket is read only as fast as lines are asked for.</summary>
    public IAsyncEnumerable<string> IterLines(Encoding? encoding = null, int maxLineLength = DefaultMaxLineLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        return IterSplit(new LineSplitter(encoding ?? LinesEncoding(), maxLineLength, sniff: encoding is null), limit: 0, cancellationToken);
    }
}

/// <summary>
/// Splits decoded text into lines on LF (dropping a CR right before it), across any split of the bytes: the decoder
/// keeps a partial character and the line buffer a partial line between pushes. A byte order mark leading the body
/// is not text (<see cref="ByteOrderMark"/>); with <paramref name="sniff"/> (no encoding chosen by the caller) it
/// also picks the decoder.
/// </summary>
internal sealed class LineSplitter(Encoding encoding, int maxLineLength, bool sniff = false) : IBodySplitter<string>
{
    private Encoding _encoding = encoding;
    private Decoder _decoder = encoding.GetDecoder();
    private readonly char[] _chars = new char[4096];
    private char[] _line = new char[256];
    private int _length;
    private ByteOrderMark.Lead _lead;

    public void Push(ReadOnlySpan<byte> bytes, List<string> output)
    {
        if (!_lead.Decided)
        {
            if (!_lead.TryTake(ref bytes, final: false, out var head)) return;
            DecodeHead(head, output);
        }
        Decode(bytes, flush: false, output);
    }

    /// <summary>The body ended: flushes the decoder and hands out the last line if it had no LF.</summary>
    public void Complete(List<string> output)
    {
        var none = ReadOnlySpan<byte>.Empty;
        if (!_lead.Decided && _lead.TryTake(ref none, final: true, out var head)) DecodeHead(head, output);
        Decode(ReadOnlySpan<byte>.Empty, flush: true, output);
        if (_length > 0) output.Add(Take(_length));
    }

    private void DecodeHead(ReadOnlySpan<byte> head, List<string> output)
    {
        int mark;
        if (!sniff) mark = ByteOrderMark.LengthFor(head, _encoding);
        else if (ByteOrderMark.Sniff(head, out mark) is { } marked)
        {
            _encoding = marked;
            _decoder = marked.GetDecoder();
        }
        Decode(head[mark..], flush: false, output);
    }

    private void Decode(ReadOnlySpan<byte> bytes, bool flush, List<string> output)
    {
        // "Not done" also means a partial character waits in the decoder, so it is no reason to go on by itself: only
        // input left, or a full char buffer (something produced and more to come), is.
        bool done;
        int produced;
        do
        {
            int used;
            try
            {
                _decoder.Convert(bytes, _chars, flush, out used, out produced, out done);
            }
            catch (DecoderFallbackException e)
            {
                throw new TextDecodeError(_encoding.WebName, -1,
                    $"A line of the body is not valid {_encoding.WebName}: pass the encoding to Lines(), or have the server declare its charset.", e);
            }
            bytes = bytes[used..];
            Split(_chars.AsSpan(0, produced), output);
        } while (!bytes.IsEmpty || (!done && produced > 0));
    }

    private void Split(ReadOnlySpan<char> text, List<string> output)
    {
        while (!text.IsEmpty)
        {
            var lf = text.IndexOf('\n');
            Append(lf < 0 ? text : text[..lf]);
            if (lf < 0) return;
            var end = _length > 0 && _line[_length - 1] == '\r' ? _length - 1 : _length;
            output.Add(Take(end));
            text = text[(lf + 1)..];
        }
    }

    private void Append(ReadOnlySpan<char> part)
    {
        // One more than the limit may be a CR whose LF has not arrived yet.
        if (_length + part.Length > maxLineLength + 1)
            throw new ClientPayloadError($"Line is too long: more than {maxLineLength} characters without a line feed.");
        if (_length + part.Length > _line.Length)
            Array.Resize(ref _line, Math.Min(Math.Max(_line.Length * 2, _length + part.Length), maxLineLength + 1));
        part.CopyTo(_line.AsSpan(_length));
        _length += part.Length;
    }

    private string Take(int end)
    {
        if (end > maxLineLength)
            throw new ClientPayloadError($"Line is too long: more than {maxLineLength} characters without a line feed.");
        var line = new string(_line, 0, end);
        _length = 0;
        return line;
    }
}
