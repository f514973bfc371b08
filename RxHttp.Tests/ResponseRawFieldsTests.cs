using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>aiohttp's raw_headers, real_url, readuntil and resp.cookies as Morsels, on the wire.</summary>
[TestFixture]
public class ResponseRawFieldsTests
{
    [Test]
    public async Task RawHeaders_are_the_bytes_as_received_in_order_with_their_case()
    {
        var latin1Value = new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9 }; // not UTF-8: decoded as Latin-1 in Headers
        var head = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nX-Custom: one\r\nx-custom: two\r\nX-Name: ")
            .Concat(latin1Value).Concat(Encoding.Latin1.GetBytes("\r\nX-Utf8: caf\u00C3\u00A9\r\nContent-Length: 0\r\n\r\n")).ToArray();
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null) await c.WriteAsync(head);
        });
        using var session = new ClientSession();
        var raw = await session.Get(server.Url()).Select(r => r.RawHeaders);
        Assert.That(raw.Select(h => Encoding.Latin1.GetString(h.Name)), Is.EqualTo(new[] { "content-type", "X-Custom", "x-custom", "X-Name", "X-Utf8", "Content-Length" }));
        Assert.That(raw[0].Value, Is.EqualTo("text/plain"u8.ToArray()));
        Assert.That(raw[2].Value, Is.EqualTo("two"u8.ToArray()));
        Assert.That(raw[3].Value, Is.EqualTo(latin1Value));
        Assert.That(raw[4].Value, Is.EqualTo("café"u8.ToArray()));
        // A second response on the same connection goes through the head string cache: same answer.
        var again = await session.Get(server.Url()).Select(r => r.RawHeaders);
        Assert.That(again.Select(h => (Encoding.Latin1.GetString(h.Name), Encoding.Latin1.GetString(h.Value))),
            Is.EqualTo(raw.Select(h => (Encoding.Latin1.GetString(h.Name), Encoding.Latin1.GetString(h.Value)))));
    }

    // As aiohttp decodes its status line, and as header values are: UTF-8, else Latin-1 (the reason was Latin-1 only).
    [TestCase(new byte[] { 0xC3, 0x89, (byte)'t', 0xC3, 0xA9 }, "\u00C9t\u00E9", TestName = "utf8_reason")]
    [TestCase(new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9 }, "caf\u00E9", TestName = "latin1_reason")]
    [TestCase(new byte[] { (byte)'N', (byte)'o', (byte)'p', (byte)'e' }, "Nope", TestName = "ascii_reason")]
    public async Task Reason_is_decoded_as_header_values_are(byte[] reason, string expected)
    {
        var head = Encoding.ASCII.GetBytes("HTTP/1.1 200 ").Concat(reason).Concat("\r\nContent-Length: 0\r\n\r\n"u8.ToArray()).ToArray();
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null) await c.WriteAsync(head);
        });
        using var session = new ClientSession();
        var r = await session.Get(server.Url()).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(r.Reason, Is.EqualTo(expected));
    }

    [Test]
    public async Task RealUrl_keeps_the_fragment_Url_is_sent_without_it()
    {
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("GET /start")
                    ? "HTTP/1.1 302 Found\r\nLocation: /next#there\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        using var session = new ClientSession();
        var r = await session.Get(server.Url("/page#frag"));
        Assert.That(r.Url.ToString(), Is.EqualTo(server.Url("/page")));
        Assert.That(r.RealUrl.ToString(), Is.EqualTo(server.Url("/page#frag")));
        Assert.That(r.RequestInfo.RealUrl, Is.EqualTo(r.RealUrl));
        Assert.That(server.Requests[^1], Does.StartWith("GET /page HTTP/1.1"), "no fragment on the wire");
        var redirected = await session.Get(server.Url("/start#first"));
        Assert.That(redirected.RealUrl.ToString(), Is.EqualTo(server.Url("/next#there")), "the Location's fragment, as aiohttp");
        Assert.That(redirected.History[0].RealUrl.ToString(), Is.EqualTo(server.Url("/start#first")));
        var credentials = await session.Get($"http://u:p@127.0.0.1:{server.Port}/page#f");
        Assert.That(credentials.RealUrl.ToString(), Is.EqualTo(server.Url("/page#f")), "credentials are not part of it");
        var plain = await session.Get(server.Url("/page"));
        Assert.That(plain.RealUrl, Is.SameAs(plain.Url));
    }

    private static RawServer Body(byte[] body, bool dribble = false) => new(async c =>
    {
        while (await c.ReadRequestAsync() is not null)
            await c.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray(), dribble);
    });

    [TestCase(false)]
    [TestCase(true)]
    public async Task ReadUntil_cuts_the_body_after_each_separator(bool dribble)
    {
        await using var server = Body("head\r\n\r\nsecond\r\n\r\n\r\n\r\ntail"u8.ToArray(), dribble);
        using var session = new ClientSession();
        var parts = await session.Get(server.Url()).SelectMany(r => r.ReadUntil("\r\n\r\n"u8.ToArray())).Select(Encoding.ASCII.GetString).ToList();
        Assert.That(parts, Is.EqualTo(new[] { "head\r\n\r\n", "second\r\n\r\n", "\r\n\r\n", "tail" }));
        var pulled = new List<string>();
        await foreach (var part in (await session.Get(server.Url())).IterUntil("\0"u8.ToArray())) pulled.Add(Encoding.ASCII.GetString(part));
        Assert.That(pulled, Is.EqualTo(new[] { "head\r\n\r\nsecond\r\n\r\n\r\n\r\ntail" }), "no separator: the whole body at its end");
    }

    [Test]
    public async Task ReadUntil_refuses_a_segment_over_the_high_water_mark()
    {
        await using var server = Body("ab\0abcdefghij\0"u8.ToArray());
        using var session = new ClientSession(new ClientSessionOptions { ReadBufferSize = 4 });
        var notes = await session.Get(server.Url()).SelectMany(r => r.ReadUntil("\0"u8.ToArray())).Materialize().ToList();
        Assert.That(notes[0].Value, Is.EqualTo("ab\0"u8.ToArray()));
        Assert.That(notes[1].Exception, Is.InstanceOf<ClientPayloadError>().With.Message.Contains("more than 8 bytes"));
        var fits = await session.Get(server.Url()).SelectMany(r => r.ReadUntil("\0"u8.ToArray(), maxLength: 11)).ToList();
        Assert.That(fits, Has.Count.EqualTo(2));
        using var any = new ClientSession();
        var r = await any.Get(server.Url());
        Assert.Throws<ArgumentException>(() => r.ReadUntil(ReadOnlyMemory<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.ReadUntil("\0"u8.ToArray(), maxLength: 0));
        r.Release();
    }

    [Test]
    public async Task Cookies_keep_their_attributes_as_morsels_and_their_values_as_before()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\n" +
            "Set-Cookie: sid=abc; Domain=.Example.com; Path=/app; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=3600; Secure; HttpOnly; SameSite=Lax; Partitioned\r\n" +
            "Set-Cookie: plain=1\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        var cookies = await session.Get(server.Url()).Select(r => r.Cookies);
        Assert.That(cookies["sid"], Is.EqualTo("abc"));
        Assert.That(cookies.ToDictionary(kv => kv.Key, kv => kv.Value), Is.EqualTo(new Dictionary<string, string> { ["sid"] = "abc", ["plain"] = "1" }));
        var sid = cookies.Morsels["sid"];
        Assert.That((sid.Key, sid.Value, sid.Domain, sid.Path), Is.EqualTo(("sid", "abc", ".Example.com", "/app")));
        Assert.That(sid.Expires, Is.EqualTo(new DateTimeOffset(2037, 10, 21, 7, 28, 0, TimeSpan.Zero)));
        Assert.That(sid.MaxAge, Is.EqualTo(3600));
        Assert.That((sid.Secure, sid.HttpOnly, sid.SameSite, sid.Partitioned), Is.EqualTo((true, true, "Lax", true)));
        var plain = cookies.Morsels["plain"];
        Assert.That((plain.Domain, plain.Path, plain.Expires, plain.MaxAge, plain.Secure, plain.HttpOnly, plain.SameSite, plain.Partitioned),
            Is.EqualTo(((string?)null, (string?)null, (DateTimeOffset?)null, (long?)null, false, false, (string?)null, false)));
    }
}
