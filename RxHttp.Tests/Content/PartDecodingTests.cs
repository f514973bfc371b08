using System.IO.Compression;
using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

/// <summary>A received part's Content-Transfer-Encoding and Content-Encoding, undone by Text()/Json()/Decode() as aiohttp's BodyPartReader.decode().</summary>
[TestFixture]
public class PartDecodingTests
{
    private const string Type = "multipart/mixed; boundary=b0und";

    private static ReceivedPart Part(string headers, byte[] content)
    {
        var body = Encoding.ASCII.GetBytes($"--b0und\r\n{headers}\r\n\r\n").Concat(content).Concat("\r\n--b0und--\r\n"u8.ToArray()).ToArray();
        return MultipartReader.Parse(body, Type)[0];
    }

    private static ReceivedPart Part(string headers, string content) => Part(headers, Encoding.ASCII.GetBytes(content));

    [Test]
    public void Base64_wrapped_at_76_characters_is_decoded()
    {
        var text = string.Concat(Enumerable.Repeat("café ", 40));
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(text), Base64FormattingOptions.InsertLineBreaks);
        var part = Part("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64", base64);
        Assert.That(part.Text(), Is.EqualTo(text));
        Assert.That(part.Content, Is.EqualTo(Encoding.ASCII.GetBytes(base64)), "Content stays as sent");
    }

    [Test]
    public void Quoted_printable_bytes_and_soft_line_breaks_are_decoded()
    {
        var part = Part("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable",
            "caf=C3=A9 au=\r\n lait, 100=3D100 and a = kept=\nend");
        Assert.That(part.Text(), Is.EqualTo("café au lait, 100=100 and a = keptend"));
    }

    [Test]
    public void Identity_transfer_encodings_leave_the_content_as_sent()
    {
        foreach (var cte in new[] { "7bit", "8BIT", "binary" })
            Assert.That(Part($"Content-Transfer-Encoding: {cte}", "a=3Db").Text(), Is.EqualTo("a=3Db"), cte);
    }

    [Test]
    public void A_gzip_or_deflate_content_encoding_is_undone_after_base64()
    {
        var json = "{\"id\":7}"u8.ToArray();
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(json);
        using var raw = new MemoryStream();
        using (var z = new DeflateStream(raw, CompressionLevel.Fastest, leaveOpen: true)) z.Write(json);
        var gzip = Part("Content-Type: application/json\r\nContent-Transfer-Encoding: base64\r\nContent-Encoding: gzip", Convert.ToBase64String(gz.ToArray()));
        var deflate = Part("Content-Type: application/json\r\nContent-Encoding: deflate", raw.ToArray());
        Assert.That(gzip.Json<Doc>(), Is.EqualTo(new Doc(7)));
        Assert.That(deflate.Decode(), Is.EqualTo(json), "raw deflate, as aiohttp decodes a part's deflate");
    }

    [Test]
    public void Unknown_or_malformed_codings_are_ClientPayloadErrors()
    {
        Assert.Throws<ClientPayloadError>(() => Part("Content-Transfer-Encoding: x-uuencode", "abc").Text());
        Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: br", "abc").Decode());
        Assert.Throws<ClientPayloadError>(() => Part("Content-Transfer-Encoding: base64", "not*base64!").Text());
        Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: gzip", "not gzip").Decode());
    }

    // A part cut short inside its compressed stream decoded to a shorter part (GZipStream and DeflateStream return 0
    // where their input ends), and a zlib error reached the caller as a raw ZLibException rather than the
    // ClientPayloadError a response body's decoding gives for both. The zlib input is the fuzz run's finding
    // (Fuzz/Regressions/deflate).
    [Test]
    public void A_truncated_or_corrupt_compressed_part_is_a_ClientPayloadError()
    {
        var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a part cut short ", 100)));
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(text);
        using var raw = new MemoryStream();
        using (var z = new DeflateStream(raw, CompressionLevel.Optimal, leaveOpen: true)) z.Write(text);
        Assert.That(Part("Content-Encoding: gzip", gz.ToArray()).Decode(), Is.EqualTo(text));
        Assert.That(Part("Content-Encoding: deflate", raw.ToArray()).Decode(), Is.EqualTo(text));
        var error = Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: gzip", gz.ToArray()[..^4]).Decode(), "cut in the trailer");
        Assert.That(error!.InnerException!.Message, Does.Contain("truncated"));
        Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: x-gzip", gz.ToArray()[..(int)(gz.Length / 2)]).Decode(), "cut in the data");
        Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: deflate", raw.ToArray()[..^3]).Decode(), "raw deflate cut");
        var zlib = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions", "deflate", "zlibexception.bin"));
        Assert.Throws<ClientPayloadError>(() => Part("Content-Encoding: deflate", zlib).Decode(), "zlib's own error");
    }

    [Test]
    public void In_form_data_a_content_encoding_is_left_alone_and_elsewhere_decompression_is_bounded()
    {
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(new byte[100_000]);
        var body = "--b0und\r\nContent-Encoding: gzip\r\n\r\n"u8.ToArray().Concat(gz.ToArray()).Concat("\r\n--b0und--\r\n"u8.ToArray()).ToArray();
        var form = MultipartReader.Parse(body, "multipart/form-data; boundary=b0und")[0];
        Assert.That(form.Decode(), Is.EqualTo(gz.ToArray()), "RFC 7578 §4.8, as aiohttp");
        var mixed = MultipartReader.Parse(body, Type, maxPartSize: 50_000)[0];
        Assert.That(mixed.Content, Has.Length.LessThan(50_000), "the compressed part itself is within the limit");
        Assert.Throws<ClientPayloadError>(() => mixed.Decode(), "100,000 decoded bytes over a 50,000-byte part limit");
        Assert.That(MultipartReader.Parse(body, Type)[0].Decode(), Has.Length.EqualTo(100_000));
    }

    [Test]
    public void A_part_without_codings_decodes_to_its_content()
    {
        var part = Part("Content-Type: text/plain", "plain");
        Assert.That(part.Decode(), Is.EqualTo(part.Content));
    }

    public sealed record Doc(int Id);
}
