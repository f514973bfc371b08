using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Forms and multipart parsed by aiohttp's own server-side parser (Debian's python3-aiohttp, run with
/// /usr/bin/python3 by the fixture), so our framing and Content-Disposition quoting match the model library.
/// </summary>
[TestFixture]
public class AiohttpInteropTests
{
    private const string Script = """
import asyncio, hashlib, json, sys
import aiohttp
from aiohttp import web

async def form(request):
    data = await request.post()
    fields, files = {}, []
    for k, v in data.items():
        if isinstance(v, web.FileField):
            body = v.file.read()
            files.append({"name": v.name, "filename": v.filename, "contentType": v.content_type,
                          "length": len(body), "sha256": hashlib.sha256(body).hexdigest().upper()})
        else:
            fields.setdefault(k, []).append(v)
    return web.json_response({"contentType": request.content_type, "fields": fields, "files": files})

async def raw(request):
    body = await request.read()
    return web.json_response({"length": len(body), "sha256": hashlib.sha256(body).hexdigest().upper(),
                               "encoding": request.headers.get("Content-Encoding")})

async def limited(request):
    # Refused on its head, the body never read: aiohttp answers and then closes or lingers over the rest.
    if request.content_length is None or request.content_length > 1024 * 1024:
        raise web.HTTPRequestEntityTooLarge(max_size=1024 * 1024, actual_size=request.content_length or 0)
    return web.Response(text=str(len(await request.read())))

async def multipart_out(request):
    # aiohttp's own writer, with content that holds most of the delimiter.
    with aiohttp.MultipartWriter("mixed", boundary="rx-boundary-7") as mp:
        mp.append("hello, world")
        mp.append_json({"a": 1, "b": [1, 2]})
        part = mp.append(b"\x00\x01binary\r\n--rx-boundary", {"Content-Type": "application/octet-stream"})
        part.set_content_disposition("attachment", filename="r\u00e9sum\u00e9.txt")
        with aiohttp.MultipartWriter("form-data") as inner:
            field = inner.append("v1")
            field.set_content_disposition("form-data", name="f1")
        mp.append(inner)
    return web.Response(body=mp)

async def multipart_names(request):
    # aiohttp's writer keeps part headers 7-bit: a non-ASCII name goes out only as name*=utf-8''...
    with aiohttp.MultipartWriter("mixed", boundary="rx-names") as mp:
        mp.append("v1").set_content_disposition("attachment", name="\u043f\u00f6le", filename="f.txt")
        mp.append("v2").set_content_disposition("attachment", name="plain")
    return web.Response(body=mp)

async def multipart_decode(request):
    # Each part as aiohttp's reader decodes it: Content-Transfer-Encoding, then Content-Encoding.
    reader = await request.multipart()
    out = []
    async for part in reader:
        body = await part.read(decode=True)
        out.append({"length": len(body), "sha256": hashlib.sha256(body).hexdigest().upper()})
    return web.json_response(out)

def make_app():
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/form", form)
    app.router.add_post("/raw", raw)
    app.router.add_post("/limited", limited)
    app.router.add_get("/multipart-out", multipart_out)
    app.router.add_get("/multipart-names", multipart_names)
    app.router.add_post("/multipart-decode", multipart_decode)
    return app
""";

    private AiohttpScriptServer _server = null!;

    public sealed record FileInfoDto(string Name, string Filename, string ContentType, long Length, string Sha256);
    public sealed record FormDto(string ContentType, Dictionary<string, string[]> Fields, FileInfoDto[] Files);
    public sealed record RawDto(long Length, string Sha256, string? Encoding);

    [OneTimeSetUp]
    public async Task Start() => _server = await AiohttpScriptServer.StartAsync(Script, "aiohttp");

    [OneTimeTearDown]
    public void Stop() => _server?.Dispose();

    private static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b));

    [Test]
    public async Task Urlencoded_form_is_parsed_by_aiohttp()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = (await session.Post("form", new() { Data = new[] { ("key", "value1"), ("key", "välue 2+&") } }).SelectMany(x => x.Json<FormDto>()))!;
        Assert.That(r.ContentType, Is.EqualTo("application/x-www-form-urlencoded"));
        Assert.That(r.Fields["key"], Is.EqualTo(new[] { "value1", "välue 2+&" }));
    }

    [Test]
    public async Task Multipart_form_with_files_is_parsed_by_aiohttp()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var form = new FormData()
            .AddField("title", "quoted \"title\" ü")
            .AddField("file", new MemoryStream(data), "application/x-custom", "отчёт \"1\".bin");
        using var session = new ClientSession(_server.BaseUrl);
        var r = (await session.Post("form", new() { Data = form }).SelectMany(x => x.Json<FormDto>()))!;
        Assert.That(r.ContentType, Is.EqualTo("multipart/form-data"));
        Assert.That(r.Fields["title"], Is.EqualTo(new[] { "quoted \"title\" ü" }));
        Assert.That(r.Files.Single(), Is.EqualTo(new FileInfoDto("file", "отчёт \"1\".bin", "application/x-custom", data.Length, Sha(data))));
    }

    [Test]
    public async Task Compressed_upload_is_decompressed_by_aiohttp()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("aiohttp inflates this ", 20_000)));
        using var session = new ClientSession(_server.BaseUrl);
        var r = (await session.Post("raw", new() { Data = data, Compress = "deflate" }).SelectMany(x => x.Json<RawDto>()))!;
        Assert.That((r.Length, r.Sha256, r.Encoding), Is.EqualTo(((long)data.Length, Sha(data), "deflate")));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task An_upload_aiohttp_refuses_on_its_head_gets_its_413(bool chunked)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var body = new MemoryStream(new byte[48 << 20]);
        var status = await session.Post("limited", new() { Data = new StreamPayload(body), Chunked = chunked }).Select(r => r.Status);
        Assert.That(status, Is.EqualTo(413));
        Assert.That(await session.Post("limited", new() { Data = new byte[1000] }).SelectMany(r => r.Text()), Is.EqualTo("1000"), "the session goes on");
    }

    [Test]
    public async Task A_multipart_response_written_by_aiohttp_reads_back()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var parts = await session.Get("multipart-out").SelectMany(r => r.Multipart()).ToList();
        Assert.That(parts, Has.Count.EqualTo(4));
        Assert.That(parts[0].Text(), Is.EqualTo("hello, world"));
        Assert.That(parts[0].ContentType, Is.EqualTo("text/plain"));
        Assert.That(parts[1].Json<Dictionary<string, object>>()!.Keys, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(parts[2].Content, Is.EqualTo(new byte[] { 0, 1 }.Concat(Encoding.ASCII.GetBytes("binary\r\n--rx-boundary")).ToArray()));
        // aiohttp 3.8 percent-encodes a plain filename and sends no filename*; its own reader (content_disposition_filename)
        // gives the text back as it stands, and so does RxHttp (RFC 6266 has no percent-decoding of filename).
        Assert.That(parts[2].FileName, Is.EqualTo("r%C3%A9sum%C3%A9.txt"));
        Assert.That(parts[2].ContentDisposition!.Type, Is.EqualTo("attachment"));
        var inner = parts[3].Parts();
        Assert.That(inner.Select(p => (p.Name, p.Text())), Is.EqualTo(new[] { ("f1", "v1") }));
    }

    [Test]
    public async Task A_part_name_aiohttp_sends_as_name_star_reads_back()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var response = await session.Get("multipart-names");
        Assert.That(response.Headers.Get("Content-Type"), Does.Contain("rx-names"));
        var parts = await response.Multipart().ToList();
        Assert.That(parts[0].Headers.Get("Content-Disposition"), Does.Contain("name*=utf-8''"), "what aiohttp 3.8 sends");
        // aiohttp's BodyPartReader.name reads name* first (content_disposition_filename(params, "name")).
        Assert.That(parts.Select(p => p.Name), Is.EqualTo(new[] { "пöle", "plain" }));
        Assert.That(parts[0].FileName, Is.EqualTo("f.txt"));
    }

    public sealed record DecodedDto(long Length, string Sha256);

    [Test]
    public async Task Parts_declared_base64_quoted_printable_or_gzip_are_decoded_by_aiohttp_to_their_bytes()
    {
        var binary = RandomNumberGenerator.GetBytes(100_000);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("naïve = text \t\r\n--rx \r\n", 500)) + " ");
        var mp = new MultipartWriter("mixed");
        byte[][] sent = [binary, text, text, binary];
        mp.Append(binary, new Dictionary<string, string> { ["Content-Transfer-Encoding"] = "base64" });
        mp.Append(text, new Dictionary<string, string> { ["Content-Transfer-Encoding"] = "quoted-printable" });
        mp.Append(text, new Dictionary<string, string> { ["Content-Encoding"] = "gzip" });
        mp.Append(binary, new Dictionary<string, string> { ["Content-Encoding"] = "deflate", ["Content-Transfer-Encoding"] = "base64" });
        using var session = new ClientSession(_server.BaseUrl);
        var r = (await session.Post("multipart-decode", new() { Data = mp }).SelectMany(x => x.Json<DecodedDto[]>()))!;
        Assert.That(r, Is.EqualTo(sent.Select(b => new DecodedDto(b.Length, Sha(b))).ToArray()));
    }
}
