using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

public sealed record NamedDto(string Name);

[System.Text.Json.Serialization.JsonSerializable(typeof(NamedDto))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
public sealed partial class NamedDtoContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// aiohttp's fallback_charset_resolver and strict text(): a body without a charset that is not UTF-8 fails with a
/// typed error rather than decoding to U+FFFD, unless the session's resolver picks an encoding.
/// </summary>
[TestFixture]
public class FallbackCharsetTests
{
    private static readonly byte[] Cafe = Encoding.Latin1.GetBytes("café"); // 63 61 66 E9: not UTF-8

    private static RawServer Serve(string contentType, byte[] body, bool chunked = false) => RawServer.Body(contentType, body, chunked);

    [TestCase(false)]
    [TestCase(true)]
    public async Task Without_a_resolver_a_body_that_is_not_UTF8_fails_with_TextDecodeError(bool chunked)
    {
        await using var server = Serve("text/plain", Cafe, chunked);
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<TextDecodeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Text()));
        Assert.That(e, Is.InstanceOf<ClientPayloadError>());
        Assert.That(e!.Encoding, Is.EqualTo("utf-8"));
        Assert.That(e.Offset, Is.EqualTo(3));
        Assert.That(e.Message, Does.Contain("FallbackCharsetResolver"));
    }

    [Test]
    public async Task The_resolver_picks_the_encoding_of_a_body_without_charset_and_GetEncoding_reports_it()
    {
        await using var server = Serve("text/plain", Cafe);
        var calls = new List<(string Url, int Length)>();
        using var session = new ClientSession(new ClientSessionOptions
        {
            FallbackCharsetResolver = (response, body) =>
            {
                calls.Add((response.Url.ToString(), body.Length));
                return Encoding.Latin1;
            },
        });
        var (text, encoding) = await session.Get(server.Url()).SelectMany(async r => (await r.Text(), r.GetEncoding()));
        Assert.That(text, Is.EqualTo("café"));
        Assert.That(encoding, Is.EqualTo(Encoding.Latin1));
        Assert.That(calls, Has.Count.EqualTo(2).And.All.EqualTo((server.Url(), 4)));
    }

    [Test]
    public async Task A_valid_UTF8_body_or_a_declared_charset_does_not_ask_the_resolver()
    {
        await using var utf8 = Serve("text/plain", Encoding.UTF8.GetBytes("café"));
        await using var declared = Serve("text/plain; charset=iso-8859-1", Cafe);
        var asked = 0;
        using var session = new ClientSession(new ClientSessionOptions { FallbackCharsetResolver = (_, _) => { asked++; return Encoding.ASCII; } });
        Assert.That(await session.Get(utf8.Url()).SelectMany(r => r.Text()), Is.EqualTo("café"));
        Assert.That(await session.Get(declared.Url()).SelectMany(r => r.Text()), Is.EqualTo("café"));
        Assert.That(asked, Is.Zero);
    }

    [Test]
    public async Task GetEncoding_follows_aiohttp_get_encoding()
    {
        await using var json = Serve("application/json", "{}"u8.ToArray());
        await using var unknown = Serve("text/plain; charset=no-such-charset", "x"u8.ToArray());
        await using var plain = Serve("text/plain", Cafe);
        using var strict = new ClientSession();
        using var resolving = new ClientSession(new ClientSessionOptions { FallbackCharsetResolver = (_, _) => Encoding.Latin1 });
        Assert.That(await resolving.Get(json.Url()).Select(r => r.GetEncoding()), Is.EqualTo(Encoding.UTF8), "JSON is UTF-8 (RFC 8259)");
        Assert.That(await strict.Get(unknown.Url()).Select(r => r.GetEncoding()), Is.EqualTo(Encoding.UTF8), "an unknown charset falls through");
        Assert.That(await strict.Get(plain.Url()).Select(r => r.GetEncoding()), Is.EqualTo(Encoding.UTF8), "no resolver: UTF-8 without reading");
        Assert.Throws<InvalidOperationException>(() => resolving.Get(plain.Url()).Select(r => r.GetEncoding()).Wait(),
            "the resolver needs the body, which was not read (aiohttp raises too)");
    }

    [Test]
    public async Task A_large_body_takes_the_same_rules()
    {
        var body = Enumerable.Repeat(Cafe, 50_000).SelectMany(b => b).ToArray(); // 200 KB, past the large-text path's threshold
        await using var server = Serve("text/plain", body);
        using var strict = new ClientSession();
        Assert.ThrowsAsync<TextDecodeError>(async () => await strict.Get(server.Url()).SelectMany(r => r.Text()));
        using var resolving = new ClientSession(new ClientSessionOptions { FallbackCharsetResolver = (_, _) => Encoding.Latin1 });
        Assert.That(await resolving.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo(string.Concat(Enumerable.Repeat("café", 50_000))));
    }

    [Test]
    public async Task Json_is_read_in_a_declared_charset_and_through_the_resolver()
    {
        await using var latin1 = Serve("application/json; charset=iso-8859-1", Encoding.Latin1.GetBytes("{\"name\":\"café\"}"));
        await using var undeclared = Serve("text/plain", Encoding.Latin1.GetBytes("{\"name\":\"café\"}"));
        using var session = new ClientSession(new ClientSessionOptions { FallbackCharsetResolver = (_, _) => Encoding.Latin1 });
        var typeInfo = NamedDtoContext.Default.NamedDto;
        Assert.That((await session.Get(latin1.Url()).SelectMany(r => r.Json(typeInfo)))!.Name, Is.EqualTo("café"));
        Assert.That((await session.Get(undeclared.Url()).SelectMany(r => r.Json(typeInfo, contentType: null)))!.Name, Is.EqualTo("café"));
        using var strict = new ClientSession();
        Assert.ThrowsAsync<ClientPayloadError>(async () => await strict.Get(undeclared.Url()).SelectMany(r => r.Json(typeInfo, contentType: null)));
    }

    [Test]
    public async Task Lines_without_charset_are_strict_UTF8()
    {
        await using var server = Serve("text/plain", Encoding.Latin1.GetBytes("one\ncafé\n"));
        using var session = new ClientSession();
        var notes = await session.Get(server.Url()).SelectMany(r => r.Lines()).Materialize().ToList();
        Assert.That(notes[^1].Exception, Is.InstanceOf<TextDecodeError>());
        Assert.That(notes.Where(n => n.HasValue).Select(n => n.Value), Has.None.Contains('\uFFFD'));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Lines(Encoding.Latin1)).ToList(), Is.EqualTo(new[] { "one", "café" }));
    }

    // .NET's own lookup knows only Unicode, ASCII and Latin-1, so "windows-1252" was an unknown charset: the body
    // fell back to strict UTF-8 and Text() failed with "names no charset". aiohttp decodes these as declared.
    [TestCase("windows-1252", "café: 5 €")]
    [TestCase("iso-8859-15", "café: 5 €")]
    [TestCase("koi8-r", "привет")]
    [TestCase("shift_jis", "こんにちは")]
    public async Task A_code_page_charset_is_decoded_as_declared(string charset, string text) =>
        await Decodes(charset, System.Text.CodePagesEncodingProvider.Instance.GetEncoding(charset)!, text);

    // Python's codecs take names with any separators; .NET's table has one spelling. "latin-1" is what aiohttp's own
    // FormData(charset="latin-1") declares, and fell back to strict UTF-8 here.
    [TestCase("latin-1", "iso-8859-1", "café")]
    [TestCase("euc_jp", "euc-jp", "こんにちは")]
    [TestCase("US_ASCII", "us-ascii", "plain")]
    public async Task A_charset_spelled_as_Python_spells_it_is_decoded_as_declared(string charset, string dotnetName, string text) =>
        await Decodes(charset, dotnetName switch
        {
            "iso-8859-1" => Encoding.Latin1,
            "us-ascii" => Encoding.ASCII,
            _ => System.Text.CodePagesEncodingProvider.Instance.GetEncoding(dotnetName)!,
        }, text);

    // An unknown charset counts as none (aiohttp's way), but the error names it rather than saying there was none.
    [Test]
    public async Task A_charset_no_table_knows_is_named_in_the_decode_error()
    {
        var body = Encoding.Latin1.GetBytes("café");
        await using var server = Serve("text/plain; charset=x-martian", body);
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<TextDecodeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Text()));
        Assert.That(e!.Message, Does.Contain("not known ('x-martian')").And.Not.Contain("names no charset"));
        var part = MultipartReader.Parse(Encoding.Latin1.GetBytes("--b\r\nContent-Type: text/plain; charset=x-martian\r\n\r\n")
            .Concat(body).Concat("\r\n--b--\r\n"u8.ToArray()).ToArray(), "multipart/mixed; boundary=b").Single();
        var p = Assert.Throws<TextDecodeError>(() => part.Text());
        Assert.That(p!.Message, Does.Contain("not known ('x-martian')").And.Not.Contain("as its Content-Type declares"));
    }

    private static async Task Decodes(string charset, Encoding codePage, string text)
    {
        var body = codePage.GetBytes(text + "\n" + text);
        await using var server = Serve($"text/plain; charset={charset}", body);
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo(text + "\n" + text));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Lines()).ToList(), Is.EqualTo(new[] { text, text }));
        Assert.That(await session.Get(server.Url()).Select(r => r.GetEncoding().WebName), Is.EqualTo(codePage.WebName));
        var part = MultipartReader.Parse(Encoding.Latin1.GetBytes($"--b\r\nContent-Type: text/plain; charset={charset}\r\n\r\n")
            .Concat(body).Concat("\r\n--b--\r\n"u8.ToArray()).ToArray(), "multipart/mixed; boundary=b").Single();
        Assert.That(part.Text(), Is.EqualTo(text + "\n" + text));
    }

    // Charset look-ups are remembered (each miss of .NET's own table throws inside), case-blind, and only for a
    // bounded number of names, since servers choose them.
    [Test]
    public void Charset_lookups_are_remembered_for_a_bounded_number_of_names()
    {
        var first = ContentTypeHeader.EncodingNamed("windows-1252");
        Assert.That(first?.CodePage, Is.EqualTo(1252));
        Assert.That(ContentTypeHeader.EncodingNamed("WINDOWS-1252"), Is.SameAs(first));
        Assert.That(ContentTypeHeader.EncodingNamed("x-no-such-charset"), Is.Null);
        for (var i = 0; i < 500; i++) Assert.That(ContentTypeHeader.EncodingNamed($"x-made-up-{i}"), Is.Null);
        Assert.That(ContentTypeHeader.KnownCount, Is.LessThanOrEqualTo(ContentTypeHeader.KnownMax));
        Assert.That(ContentTypeHeader.EncodingNamed("latin-1"), Is.SameAs(Encoding.Latin1), "a name met past the bound is still found");
    }
}
