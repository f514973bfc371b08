using System.Text;
using System.Reactive.Linq;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

[TestFixture]
public class PayloadTests
{
    [Test]
    public void From_picks_the_payload_and_content_type_by_type()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Payload.From(new byte[] { 1, 2 }), Is.TypeOf<BytesPayload>().With.Property("ContentType").EqualTo("application/octet-stream"));
            Assert.That(Payload.From(new ReadOnlyMemory<byte>(new byte[3])).Length, Is.EqualTo(3));
            Assert.That(Payload.From("héllo").ContentType, Is.EqualTo("text/plain; charset=utf-8"));
            Assert.That(Payload.From("héllo").Length, Is.EqualTo(6));
            Assert.That(Payload.From(new Dictionary<string, string> { ["a"] = "1" }), Is.TypeOf<FormUrlEncodedPayload>());
            Assert.That(Payload.From(new MemoryStream(new byte[10])), Is.TypeOf<StreamPayload>());
            Assert.That(Payload.From(AsyncChunks()), Is.TypeOf<AsyncEnumerablePayload>());
            Assert.That(Payload.From(System.Reactive.Linq.Observable.Return((ReadOnlyMemory<byte>)new byte[1])), Is.TypeOf<ObservablePayload>());
            Assert.That(Payload.From(new FormData()), Is.TypeOf<FormData>());
        });
    }

    [Test]
    public void From_rejects_what_cannot_be_a_body()
    {
        var e = Assert.Throws<ArgumentException>(() => Payload.From(42));
        Assert.That(e!.Message, Does.Contain("Int32"));
        Assert.Throws<ArgumentException>(() => Payload.From(new List<int> { 1, 2 }));
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> AsyncChunks()
    {
        await Task.Yield();
        yield return new byte[] { 1 };
    }

    public static IEnumerable<TestCaseData> FormCases()
    {
        yield return new TestCaseData(new Dictionary<string, string> { ["key1"] = "value1", ["key2"] = "value2" }, "key1=value1&key2=value2").SetName("dictionary");
        yield return new TestCaseData(new List<KeyValuePair<string, string>> { new("key", "value1"), new("key", "value2") }, "key=value1&key=value2").SetName("pair list keeps repeats");
        yield return new TestCaseData(new[] { ("key", "value1"), ("key", "value2") }, "key=value1&key=value2").SetName("tuple array");
        yield return new TestCaseData(new List<(string, object?)> { ("n", 1.5), ("b", true), ("none", null) }, "n=1.5&b=true&none=").SetName("invariant values");
        yield return new TestCaseData(new Dictionary<string, string[]> { ["k"] = new[] { "a", "b" } }, "k=a&k=b").SetName("dictionary of lists");
        yield return new TestCaseData(new Dictionary<string, string> { ["a b"] = "x+y&z=/é~" }, "a+b=x%2By%26z%3D%2F%C3%A9~").SetName("quote_plus like urlencode");
        yield return new TestCaseData(new Dictionary<string, string>(), "").SetName("empty");
    }

    [TestCaseSource(nameof(FormCases))]
    public async Task Forms_encode_like_python_urlencode(object data, string expected)
    {
        var p = Payload.From(data);
        Assert.That(p.ContentType, Is.EqualTo("application/x-www-form-urlencoded"));
        var bytes = await CollectingWriter.WriteAsync(p);
        Assert.That(Encoding.ASCII.GetString(bytes), Is.EqualTo(expected));
        Assert.That(p.Length, Is.EqualTo(bytes.Length));
        Assert.That(p.IsReplayable, Is.True);
    }

    // aiohttp's FormData(charset="latin-1") says "application/x-www-form-urlencoded; charset=latin-1": without it a
    // server that reads the parameter (aiohttp's request.post()) decodes the percent-encoded bytes as UTF-8.
    [Test]
    public void A_form_in_another_encoding_names_its_charset()
    {
        var pairs = new[] { new KeyValuePair<string, string>("k", "café") };
        var latin1 = new FormUrlEncodedPayload(pairs, Encoding.Latin1);
        Assert.That(latin1.ToString(), Is.EqualTo("k=caf%E9"));
        Assert.That(latin1.ContentType, Is.EqualTo("application/x-www-form-urlencoded; charset=iso-8859-1"));
        Assert.That(new FormUrlEncodedPayload(pairs, new UTF8Encoding(true)).ContentType, Is.EqualTo("application/x-www-form-urlencoded"));
    }

    // aiohttp's StringPayload takes its encoding from the content type's charset: the bytes are what the header says.
    [Test]
    public async Task Text_is_encoded_in_the_charset_its_content_type_declares()
    {
        var latin1 = new StringPayload("café", "text/html; charset=ISO-8859-1");
        Assert.That(await CollectingWriter.WriteAsync(latin1), Is.EqualTo(new byte[] { 0x63, 0x61, 0x66, 0xE9 }));
        Assert.That(latin1.ContentType, Is.EqualTo("text/html; charset=ISO-8859-1"));
        Assert.That(await CollectingWriter.WriteAsync(new StringPayload("é", "text/html")), Is.EqualTo("é"u8.ToArray()), "UTF-8 without a charset");
        Assert.That(await CollectingWriter.WriteAsync(new StringPayload("é", "text/plain; charset=iso-8859-1", Encoding.UTF8)), Is.EqualTo("é"u8.ToArray()),
            "an encoding given wins");
        Assert.Throws<ArgumentException>(() => _ = new StringPayload("x", "text/plain; charset=x-no-such-charset"));
        Assert.That(await CollectingWriter.WriteAsync(new StringPayload("€", "text/plain; charset=windows-1252")), Is.EqualTo(new byte[] { 0x80 }),
            "a code page .NET knows only through CodePagesEncodingProvider");

        var form = new FormData("B").AddField("f", "café", contentType: "text/plain; charset=iso-8859-1");
        Assert.That(Encoding.Latin1.GetString(await CollectingWriter.WriteAsync(form)), Does.Contain("\r\n\r\ncaf\u00e9\r\n--B--"));
    }

    [Test]
    public void Form_values_that_are_not_finite_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Payload.From(new Dictionary<string, object?> { ["x"] = double.NaN }));
    }

    [Test]
    public async Task Seekable_stream_has_a_length_from_its_position_and_replays()
    {
        var ms = new MemoryStream(Encoding.ASCII.GetBytes("0123456789"));
        ms.Position = 4;
        var p = new StreamPayload(ms);
        Assert.That(p.Length, Is.EqualTo(6));
        Assert.That(p.IsReplayable, Is.True);
        Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(p)), Is.EqualTo("456789"));
        Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(p)), Is.EqualTo("456789"), "rewound for a resend");
    }

    [Test]
    public async Task Non_seekable_stream_has_no_length_and_is_not_replayable()
    {
        var data = GeneratedStream.KestrelPattern(100_000);
        var p = new StreamPayload(new NonSeekableStream(data));
        Assert.That(p.Length, Is.Null);
        Assert.That(p.IsReplayable, Is.False);
        Assert.That(await CollectingWriter.WriteAsync(p), Is.EqualTo(data));
        Assert.That(async () => await CollectingWriter.WriteAsync(p), Throws.TypeOf<ClientPayloadError>().With.Message.Contains("cannot be sent twice"),
            "what is left of the stream is not the body");
    }

    [Test]
    public async Task File_payload_guesses_its_type_and_streams_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rxhttp-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, "{\"a\":1}");
        try
        {
            var p = new FilePayload(new FileInfo(path));
            Assert.That(p.ContentType, Is.EqualTo("application/json"));
            Assert.That(p.Length, Is.EqualTo(7));
            Assert.That(p.IsReplayable, Is.True);
            Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(p)), Is.EqualTo("{\"a\":1}"));
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => new FilePayload(new FileInfo(path)));
    }

    [Test]
    public async Task Observable_payload_fails_instead_of_buffering_past_its_bound()
    {
        var p = new ObservablePayload(System.Reactive.Linq.Observable.Range(0, 10).Select(_ => (ReadOnlyMemory<byte>)new byte[100]), maxBufferedBytes: 250);
        var blocking = new BlockingWriter();
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await p.WriteToAsync(blocking, CancellationToken.None));
        Assert.That(e!.Message, Does.Contain("250"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task Observable_payload_forwards_chunks_and_errors()
    {
        var ok = new ObservablePayload(System.Reactive.Linq.Observable.Range(0, 3).Select(i => (ReadOnlyMemory<byte>)new[] { (byte)('a' + i) }));
        Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(ok)), Is.EqualTo("abc"));
        var bad = new ObservablePayload(System.Reactive.Linq.Observable.Throw<ReadOnlyMemory<byte>>(new InvalidOperationException("boom")));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await CollectingWriter.WriteAsync(bad));
    }

    // Never finishes a write until the producer has outrun the bound (the first chunk's write waits for the error).
    private sealed class BlockingWriter : PayloadWriter
    {
        public override long BytesWritten => 0;
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => await Task.Yield();
    }

    [Test]
    public void Compress_accepts_known_encodings_only()
    {
        Assert.That(new CompressedPayload(Payload.From("x"), "GZIP").Encoding, Is.EqualTo("gzip"));
        Assert.That(new CompressedPayload(Payload.From("x")).Encoding, Is.EqualTo("deflate"));
        Assert.Throws<ArgumentException>(() => new CompressedPayload(Payload.From("x"), "compress"));
        var c = new CompressedPayload(Payload.From("x"));
        Assert.That(c.Length, Is.Null, "compressed length is unknown: sent chunked");
        Assert.That(c.ContentType, Is.EqualTo("text/plain; charset=utf-8"));
    }

    [TestCase("gzip")]
    [TestCase("deflate")]
    [TestCase("br")]
    public async Task Compressed_payload_round_trips(string encoding)
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("round trip ", 10_000)));
        var bytes = await CollectingWriter.WriteAsync(new CompressedPayload(new BytesPayload(data), encoding));
        Assert.That(bytes.Length, Is.LessThan(data.Length / 10));
        using var ms = new MemoryStream(bytes);
        Stream z = encoding switch
        {
            "gzip" => new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionMode.Decompress),
            "br" => new System.IO.Compression.BrotliStream(ms, System.IO.Compression.CompressionMode.Decompress),
            _ => new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionMode.Decompress),
        };
        using var back = new MemoryStream();
        z.CopyTo(back);
        Assert.That(back.ToArray(), Is.EqualTo(data));
    }

    private sealed class BodyFailure() : Exception("the caller's body failed");

    /// <summary>A connection that breaks when <see cref="Broken"/> is set: every write after that fails.</summary>
    private sealed class BreakingWriter : PayloadWriter
    {
        public bool Broken;
        public int WritesAfterBreak;
        public override long BytesWritten => 0;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (!Broken) return ValueTask.CompletedTask;
            WritesAfterBreak++;
            throw new IOException("Broken pipe");
        }
    }

    /// <summary>A body that writes some text, then fails as the connection breaks (a peer that gave up on it).</summary>
    private sealed class FailingPayload(BreakingWriter connection) : Payload
    {
        public override long? Length => null;

        public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes("partial body"), cancellationToken);
            connection.Broken = true;
            throw new BodyFailure();
        }
    }

    [TestCase("gzip")]
    [TestCase("deflate")]
    [TestCase("br")]
    [TestCase("zstd")]
    public void A_compressed_body_that_fails_fails_with_its_own_exception_and_flushes_nothing_more(string encoding)
    {
        // The compressor holds what was written so far; flushed on the way out, it met the broken connection, and the
        // IOException took the place of the body's own exception.
        var connection = new BreakingWriter();
        Assert.ThrowsAsync<BodyFailure>(async () => await new CompressedPayload(new FailingPayload(connection), encoding).WriteToAsync(connection, default));
        Assert.That(connection.WritesAfterBreak, Is.Zero, "nothing of a failed body is compressed onto the wire after its failure");
    }

    // No bytes at all is not a zlib or gzip stream (RFC 1950 §2.2, RFC 1952 §2.2): zlib.decompress(b"") fails, and so
    // does Go's gzip.NewReader. aiohttp's compressobj flushes a whole empty stream; .NET's encoders write nothing.
    [TestCase("deflate", "789C", "00000001")]
    [TestCase("gzip", "1F8B08", "0000000000000000")]
    public async Task An_empty_body_compresses_to_a_whole_empty_stream(string encoding, string magic, string checksum)
    {
        var bytes = await CollectingWriter.WriteAsync(new CompressedPayload(new BytesPayload(Array.Empty<byte>()), encoding));
        var hex = Convert.ToHexString(bytes);
        Assert.That(hex, Does.StartWith(magic), "the header");
        Assert.That(hex, Does.EndWith(checksum), "the checksum of nothing (and gzip's size, 0)");
        using var ms = new MemoryStream(bytes);
        using Stream z = encoding == "gzip"
            ? new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionMode.Decompress)
            : new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionMode.Decompress);
        Assert.That(z.ReadByte(), Is.EqualTo(-1));
        Assert.That(ms.Position, Is.EqualTo(bytes.Length), "the decoder took every byte");
    }

    [Test]
    public void Transfer_progress_fraction()
    {
        Assert.That(new TransferProgress(50, 200).Fraction, Is.EqualTo(0.25));
        Assert.That(new TransferProgress(50, null).Fraction, Is.Null);
        Assert.That(new TransferProgress(0, 0).Fraction, Is.EqualTo(1.0));
    }
}
