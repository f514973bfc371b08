using System.Reactive.Linq;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>The response views that are computed on demand or kept aside (not fields of every response) say the same as before.</summary>
[TestFixture]
public class ResponseFieldsTests : KestrelFixture
{
    private sealed record Named(string? Name, int Value);

    [Test]
    public async Task Json_uses_the_session_options_unless_given_its_own()
    {
        var strict = new JsonSerializerOptions { PropertyNameCaseInsensitive = false };
        using var session = new ClientSession(new ClientSessionOptions { JsonOptions = strict });
        var viaSession = await session.Get(Server.Url("json")).SelectMany(r => r.Json<Named>());
        var viaCall = await session.Get(Server.Url("json")).SelectMany(r => r.Json<Named>(options: JsonSerializerOptions.Web));
        Assert.That(viaSession, Is.EqualTo(new Named(null, 0)), "case-sensitive: the lower-case names do not bind");
        Assert.That(viaCall, Is.EqualTo(new Named("rx", 42)));
    }

    [Test]
    public async Task Method_url_content_type_and_length_come_from_the_request_and_headers()
    {
        using var session = new ClientSession();
        using var r = await session.Get(Server.Url("json"));
        Assert.Multiple(() =>
        {
            Assert.That(r.Method, Is.EqualTo("GET"));
            Assert.That(r.Url, Is.EqualTo(r.RequestInfo.Url));
            Assert.That(r.ContentType, Is.EqualTo("application/json"));
            Assert.That(r.Charset, Is.EqualTo("utf-8"));
            Assert.That(r.History, Is.Empty);
            Assert.That(r.Cookies, Is.Empty);
        });
    }

    [Test]
    public async Task Connection_is_there_until_the_body_is_read_and_ContentLength_is_hidden_when_decoding()
    {
        using var session = new ClientSession();
        // StreamResponse: even a small body that came with its head stays on its connection until read.
        var r = await session.Get(Server.Url("hello"), new RequestOptions { StreamResponse = true });
        Assert.That(r.Connection, Is.Not.Null);
        Assert.That(r.ContentLength, Is.EqualTo(KestrelServer.Hello.Length));
        await r.Read();
        Assert.That(r.Connection, Is.Null);

        var gz = await session.Get(Server.Url("compressed/gzip"));
        Assert.That(gz.ContentLength, Is.Null);
        Assert.That(await gz.Text(), Does.StartWith("compress me please"));
    }
}
