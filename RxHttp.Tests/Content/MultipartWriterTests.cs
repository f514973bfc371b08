using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

[TestFixture]
public class MultipartWriterTests
{
    [Test]
    public async Task Mixed_parts_are_framed_exactly_and_the_length_matches()
    {
        var mp = new MultipartWriter("mixed", "b0undary");
        mp.Append("hello");
        mp.AppendJson(new { a = 1 });
        mp.Append(new byte[] { 0, 255 }).SetContentDisposition("attachment", filename: "x.bin");
        var bytes = await CollectingWriter.WriteAsync(mp);
        var expected =
            "--b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n" +
            "--b0undary\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n" +
            "--b0undary\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\r\n\u0000\u00ff\r\n" +
            "--b0undary--\r\n";
        Assert.That(bytes, Is.EqualTo(Encoding.Latin1.GetBytes(expected)));
        Assert.That(mp.Length, Is.EqualTo(bytes.Length));
        Assert.That(mp.ContentType, Is.EqualTo("multipart/mixed; boundary=b0undary"));
        Assert.That(mp.IsReplayable, Is.True);
    }

    [Test]
    public async Task Nested_multipart_carries_its_own_boundary()
    {
        var inner = new MultipartWriter("alternative", "inner");
        inner.Append("plain");
        inner.Append(new StringPayload("<b>html</b>", "text/html"));
        var outer = new MultipartWriter("mixed", "outer");
        outer.Append(inner);
        var text = Encoding.UTF8.GetString(await CollectingWriter.WriteAsync(outer));
        Assert.That(text, Does.StartWith("--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n"));
        Assert.That(text, Does.EndWith("--inner--\r\n\r\n--outer--\r\n"));
        Assert.That(outer.Length, Is.EqualTo(Encoding.UTF8.GetByteCount(text)));
    }

    [Test]
    public void Default_boundary_is_random_and_a_quoted_boundary_is_quoted_in_the_header()
    {
        Assert.That(new MultipartWriter().Boundary, Has.Length.EqualTo(32).And.Not.EqualTo(new MultipartWriter().Boundary));
        Assert.That(new MultipartWriter("mixed", "a:b").ContentType, Is.EqualTo("multipart/mixed; boundary=\"a:b\""));
    }

    [TestCase("")]
    [TestCase("ends with space ")]
    [TestCase("bad\"quote")]
    [TestCase("x\r\ny")]
    public void Invalid_boundaries_are_refused(string boundary) =>
        Assert.Throws<ArgumentException>(() => new MultipartWriter("mixed", boundary));

    [Test]
    public void Boundary_longer_than_70_is_refused() =>
        Assert.Throws<ArgumentException>(() => new MultipartWriter("mixed", new string('a', 71)));

    [Test]
    public void Unknown_length_part_makes_the_length_unknown()
    {
        var mp = new MultipartWriter();
        mp.Append(new StreamPayload(new NonSeekableStream(new byte[10])));
        Assert.That(mp.Length, Is.Null);
        Assert.That(mp.IsReplayable, Is.False);
    }

    [TestCase("a.txt", "form-data; name=\"f\"; filename=\"a.txt\"")]
    [TestCase("say \"hi\"\\.txt", "form-data; name=\"f\"; filename=\"say \\\"hi\\\"\\\\.txt\"")]
    [TestCase("отчёт.pdf", "form-data; name=\"f\"; filename=\"отчёт.pdf\"; filename*=utf-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf")]
    [TestCase("a\r\nb", "form-data; name=\"f\"; filename=\"a%0D%0Ab\"; filename*=utf-8''a%0D%0Ab")]
    public void Content_disposition_quotes_filenames(string filename, string expected)
    {
        var part = new MultipartWriter().Append("x").SetContentDisposition("form-data", "f", filename);
        Assert.That(part.Headers["Content-Disposition"], Is.EqualTo(expected));
    }

    [Test]
    public void Content_disposition_rejects_bad_tokens()
    {
        var part = new MultipartWriter().Append("x");
        Assert.Throws<ArgumentException>(() => part.SetContentDisposition("form data", "f"));
        Assert.Throws<ArgumentException>(() => part.SetContentDisposition("form-data", "f", parameters: new Dictionary<string, string> { ["bad key"] = "v" }));
        Assert.Throws<ArgumentException>(() => part.SetContentDisposition("form-data", "f\0"));
    }

    [Test]
    public void Part_headers_refuse_injection() =>
        Assert.Throws<ArgumentException>(() => new MultipartWriter().Append("x", new Dictionary<string, string> { ["X-A"] = "1\r\nX-B: 2" }));
}

[TestFixture]
public class FormDataTests
{
    [Test]
    public async Task Plain_fields_are_urlencoded()
    {
        var form = new FormData().AddField("a", "1").AddField("b", "x y").AddField("n", 2.5);
        Assert.That(form.IsMultipart, Is.False);
        Assert.That(form.ContentType, Is.EqualTo("application/x-www-form-urlencoded"));
        Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(form)), Is.EqualTo("a=1&b=x+y&n=2.5"));
    }

    [Test]
    public async Task A_file_makes_it_multipart_form_data()
    {
        var form = new FormData("BND").AddField("title", "t").AddField("file", new MemoryStream("data"u8.ToArray()), "text/csv", "r.csv");
        Assert.That(form.IsMultipart, Is.True);
        Assert.That(form.ContentType, Is.EqualTo("multipart/form-data; boundary=BND"));
        var text = Encoding.UTF8.GetString(await CollectingWriter.WriteAsync(form));
        Assert.That(text, Is.EqualTo(
            "--BND\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nt\r\n" +
            "--BND\r\nContent-Type: text/csv\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\r\ndata\r\n" +
            "--BND--\r\n"));
        Assert.That(form.Length, Is.EqualTo(Encoding.UTF8.GetByteCount(text)));
    }

    [Test]
    public void Content_type_or_filename_on_a_text_field_makes_it_multipart()
    {
        Assert.That(new FormData().AddField("a", "1", contentType: "text/csv").IsMultipart, Is.True);
        Assert.That(new FormData().AddField("a", "1", filename: "a.txt").IsMultipart, Is.True);
    }

    [Test]
    public void Stream_filename_defaults_to_the_field_name_as_in_aiohttp()
    {
        var form = new FormData("B").AddField("upload", new MemoryStream(new byte[1]));
        var mp = (MultipartWriter)typeof(FormData).GetMethod("Build", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.Invoke(form, null)!;
        Assert.That(mp.Parts[0].Headers["Content-Disposition"], Is.EqualTo("form-data; name=\"upload\"; filename=\"upload\""));
        Assert.That(mp.Parts[0].Headers["Content-Type"], Is.EqualTo("application/octet-stream"));
    }

    [Test]
    public void A_form_turned_into_a_body_cannot_grow()
    {
        var form = new FormData().AddField("a", "1");
        _ = form.Length;
        Assert.Throws<InvalidOperationException>(() => form.AddField("b", "2"));
    }

    [Test]
    public async Task Bytes_given_as_an_object_are_a_file_part_not_their_type_name()
    {
        // aiohttp's add_field(name, b"..."): a file part whose filename is the field name.
        var form = new FormData("B").AddField("raw", (object)new byte[] { 65, 66 }).AddField("mem", (object)new ReadOnlyMemory<byte>("C"u8.ToArray()));
        Assert.That(form.IsMultipart, Is.True);
        Assert.That(Encoding.UTF8.GetString(await CollectingWriter.WriteAsync(form)), Is.EqualTo(
            "--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"raw\"; filename=\"raw\"\r\n\r\nAB\r\n" +
            "--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"mem\"; filename=\"mem\"\r\n\r\nC\r\n" +
            "--B--\r\n"));
    }

    [Test]
    public async Task A_sequence_given_as_an_object_adds_one_field_per_item()
    {
        // aiohttp's urlencode(doseq=True) of a list value.
        var form = new FormData().AddField("t", new[] { "a", "b" }).AddField("n", new List<int> { 1, 2 });
        Assert.That(Encoding.ASCII.GetString(await CollectingWriter.WriteAsync(form)), Is.EqualTo("t=a&t=b&n=1&n=2"));
    }
}
