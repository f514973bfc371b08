using System.Buffers;
using System.Reactive.Linq;
using System.Threading.Channels;

namespace RxHttp;

/// <summary>
/// A body read from a <see cref="Stream"/> in 64 KiB pieces, never whole into memory. A seekable stream is sent
/// with Content-Length (from its position to its end) and rewound for a 307/308 resend; any other stream is sent
/// once, chunked unless the request's own Content-Length header gives its length. The stream is not disposed:
/// whoever opened it closes it.
/// </summary>
public sealed class StreamPayload : Payload
{
    private readonly Stream _stream;
    private readonly long _start;

    /// <summary>Creates the payload (application/octet-stream unless told otherwise).</summary>
    public StreamPayload(Stream stream, string contentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        _stream = stream;
        _start = stream.CanSeek ? stream.Position : 0;
        ContentType = contentType;
    }

    /// <inheritdoc />
    public override long? Length => _stream.CanSeek ? Math.Max(0, _stream.Length - _start) : null;

    /// <inheritdoc />
    public override bool IsReplayable => _stream.CanSeek;

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        // A request observable is cold: Retry() or a second subscription writes the body again (through a new payload
        // when Data is the stream itself), and what is left of a stream that cannot rewind (nothing, usually) would go
        // out as if it were the body, an empty upload that succeeds. So the stream, not the payload, remembers it was sent.
        if (!_stream.CanSeek && !Sent.TryAdd(_stream, Sent))
            throw new ClientPayloadError("The request body is a stream that cannot seek and was already sent: it cannot be sent twice.");
        if (_stream.CanSeek && _stream.Position != _start) _stream.Position = _start;
        await CopyAsync(_stream, writer, Length, cancellationToken).ConfigureAwait(false);
    }

    // Weak keys: a stream is forgotten with its last reference.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Stream, object> Sent = new();

    internal static async ValueTask CopyAsync(Stream source, PayloadWriter writer, long? length, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var left = length ?? long.MaxValue;
            while (left > 0)
            {
                var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false);
                if (n == 0) break;
                await writer.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// A file sent from disk (aiohttp's <c>data=open(path, "rb")</c>): opened when the body is written and closed
/// after, so it is replayable; Content-Length is the file's size, Content-Type guessed from the extension.
/// </summary>
public sealed class FilePayload : Payload
{
    /// <summary>Creates the payload; <paramref name="contentType"/> defaults to a guess from the extension.</summary>
    public FilePayload(FileInfo file, string? contentType = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        File = file;
        File.Refresh();
        if (!File.Exists) throw new FileNotFoundException($"Cannot send '{file.FullName}': no such file.", file.FullName);
        ContentType = contentType ?? MimeTypes.Guess(file.Name);
    }

    /// <summary>The file.</summary>
    public FileInfo File { get; }

    /// <inheritdoc />
    public override long? Length => File.Length;

    /// <inheritdoc />
    public override bool IsReplayable => true;

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(File.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await StreamPayload.CopyAsync(stream, writer, Length, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A body pulled from an async sequence of chunks, sent chunked; the sequence is read as fast as the socket takes it.</summary>
public sealed class AsyncEnumerablePayload : Payload
{
    private readonly IAsyncEnumerable<ReadOnlyMemory<byte>> _source;

    /// <summary>Creates the payload (application/octet-stream unless told otherwise).</summary>
    public AsyncEnumerablePayload(IAsyncEnumerable<ReadOnlyMemory<byte>> source, string contentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        ContentType = contentType;
    }

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        await foreach (var chunk in _source.WithCancellation(cancellationToken).ConfigureAwait(false))
            await writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// A body from an observable of chunks, sent chunked. Subscribed when the body is written. An observable cannot
/// be slowed down, so chunks that arrive faster than the socket takes them are queued, up to
/// <see cref="MaxBufferedBytes"/>; beyond that the upload fails with <see cref="ClientPayloadError"/> rather than
/// grow without bound (use an <see cref="IAsyncEnumerable{T}"/> or a <see cref="Stream"/> for back-pressure).
/// Chunks are queued as given, not copied: do not reuse a chunk's memory after <c>OnNext</c>.
/// </summary>
public sealed class ObservablePayload : Payload
{
    private readonly IObservable<ReadOnlyMemory<byte>> _source;

    /// <summary>Creates the payload (application/octet-stream unless told otherwise).</summary>
    public ObservablePayload(IObservable<ReadOnlyMemory<byte>> source, string contentType = "application/octet-stream", long maxBufferedBytes = 64L << 20)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1);
        _source = source;
        ContentType = contentType;
        MaxBufferedBytes = maxBufferedBytes;
    }

    /// <summary>Most bytes queued between the observable and the socket (default 64 MiB).</summary>
    public long MaxBufferedBytes { get; }

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        // On a virtual clock the chunks come from scheduler actions: the loop below must write each one within the
        // action (inline), not later on a pool thread the test's clock does not wait for.
        var channel = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions
        {
            SingleReader = true,
            AllowSynchronousContinuations = writer.OnVirtualClock,
        });
        long queued = 0;
        var max = MaxBufferedBytes;
        using var subscription = _source.Subscribe(
            chunk =>
            {
                if (Interlocked.Add(ref queued, chunk.Length) > max)
                    channel.Writer.TryComplete(new ClientPayloadError($"The body observable produced more than {max} bytes ahead of the connection."));
                else channel.Writer.TryWrite(chunk);
            },
            e => channel.Writer.TryComplete(e),
            () => channel.Writer.TryComplete());
        while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (channel.Reader.TryRead(out var chunk))
            {
                await writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref queued, -chunk.Length);
            }
        }
        // Completion with an error surfaces here.
        await channel.Reader.Completion.ConfigureAwait(false);
    }
}

internal static class MimeTypes
{
    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [".txt"] = "text/plain", [".html"] = "text/html", [".htm"] = "text/html", [".css"] = "text/css",
        [".csv"] = "text/csv", [".js"] = "text/javascript", [".json"] = "application/json", [".xml"] = "application/xml",
        [".pdf"] = "application/pdf", [".zip"] = "application/zip", [".gz"] = "application/gzip",
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".gif"] = "image/gif",
        [".svg"] = "image/svg+xml", [".webp"] = "image/webp", [".mp3"] = "audio/mpeg", [".mp4"] = "video/mp4",
        [".wasm"] = "application/wasm",
    };

    public static string Guess(string fileName) =>
        Known.TryGetValue(Path.GetExtension(fileName), out var type) ? type : "application/octet-stream";
}
