using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>
/// RequestInfo.Headers is what went out on the wire, Host first as aiohttp's request_info.headers, even though a
/// plain GET no longer copies the request's headers to record them.
/// </summary>
[TestFixture]
public class SentHeadersTests : KestrelFixture
{
    [Test]
    public async Task A_get_records_Host_first_then_the_request_headers_read_only()
    {
        using var session = new ClientSession();
        using var r = await session.Get(Server.Url("hello"), new RequestOptions { Headers = new HeaderCollection().Add("X-A", "1").Add("x-a", "2") });
        var sent = r.RequestInfo.Headers;
        Assert.Multiple(() =>
        {
            Assert.That(sent.First().Key, Is.EqualTo("Host"));
            Assert.That(sent["Host"], Is.EqualTo(Url.Parse(Server.Url("")).HostHeader));
            Assert.That(sent.GetAll("X-A"), Is.EqualTo(new[] { "1", "2" }));
            Assert.That(sent["User-Agent"], Is.Not.Null);
            Assert.That(sent["Content-Length"], Is.Null);
            Assert.That(sent.IsReadOnly, Is.True);
            Assert.That(r.RequestInfo.Headers, Is.SameAs(sent), "built once");
        });
    }

    [Test]
    public async Task A_Host_header_of_the_caller_replaces_the_default_and_is_sent_once()
    {
        using var session = new ClientSession();
        using var r = await session.Get(Server.Url("hello"), new RequestOptions { Headers = new HeaderCollection().Add("Host", "example.test") });
        Assert.That(r.RequestInfo.Headers.GetAll("Host"), Is.EqualTo(new[] { "example.test" }));
    }

    [Test]
    public async Task Changing_the_request_headers_after_sending_leaves_the_record_as_sent()
    {
        ClientRequest? seen = null;
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> keep = (req, next) =>
        {
            seen = req;
            return next(req);
        };
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { keep } });
        using var r = await session.Get(Server.Url("hello"), new RequestOptions { Headers = new HeaderCollection().Add("X-A", "1").Add("X-B", "2") });
        seen!.Headers.Set("X-A", "changed");
        seen.Headers.Remove("X-B");
        seen.Headers.Add("X-C", "3");
        var sent = r.RequestInfo.Headers;
        Assert.Multiple(() =>
        {
            Assert.That(sent["X-A"], Is.EqualTo("1"));
            Assert.That(sent["X-B"], Is.EqualTo("2"));
            Assert.That(sent["X-C"], Is.Null);
            Assert.That(seen.Headers["X-A"], Is.EqualTo("changed"));
            Assert.That(seen.Headers["X-B"], Is.Null);
            Assert.That(seen.Headers["X-C"], Is.EqualTo("3"));
        });
    }

    [Test]
    public async Task Requests_without_own_headers_share_the_defaults_yet_changes_stay_where_they_are_made()
    {
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> tag = (req, next) =>
        {
            if (req.Url.Path == "/hello") req.Headers.Add("X-Tag", "only-this-one").Set("Accept", "text/plain");
            return next(req);
        };
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { tag } });
        using var tagged = await session.Get(Server.Url("hello"));
        using var plain = await session.Get(Server.Url("json"));
        session.Headers.Add("X-Session", "later");
        using var later = await session.Get(Server.Url("json"));
        session.Headers["X-Session"] = "changed";
        using var changed = await session.Get(Server.Url("json"));
        Assert.Multiple(() =>
        {
            Assert.That(tagged.RequestInfo.Headers["X-Tag"], Is.EqualTo("only-this-one"));
            Assert.That(tagged.RequestInfo.Headers["Accept"], Is.EqualTo("text/plain"));
            Assert.That(plain.RequestInfo.Headers["X-Tag"], Is.Null);
            Assert.That(plain.RequestInfo.Headers["Accept"], Is.EqualTo("*/*"));
            Assert.That(plain.RequestInfo.Headers["X-Session"], Is.Null);
            Assert.That(later.RequestInfo.Headers["X-Session"], Is.EqualTo("later"));
            Assert.That(changed.RequestInfo.Headers["X-Session"], Is.EqualTo("changed"));
            Assert.That(later.RequestInfo.Headers["X-Session"], Is.EqualTo("later"), "an earlier record keeps what it sent");
        });
    }

    [Test]
    public async Task A_bodiless_post_records_the_Content_Length_it_sent()
    {
        using var session = new ClientSession();
        using var r = await session.Post(Server.Url("echo"));
        Assert.That(r.RequestInfo.Headers["Content-Length"], Is.EqualTo("0"));
        Assert.That(r.RequestInfo.Headers.First().Key, Is.EqualTo("Host"));
    }

    [Test]
    public void A_with_copy_shares_the_headers_and_deconstructs()
    {
        var info = new RequestInfo("GET", Url.Parse("http://a/"), new HeaderCollection().Add("X", "1"));
        var copy = info with { Method = "HEAD" };
        var (method, url, headers) = copy;
        Assert.Multiple(() =>
        {
            Assert.That(method, Is.EqualTo("HEAD"));
            Assert.That(url, Is.EqualTo(info.Url));
            Assert.That(headers, Is.SameAs(info.Headers));
            Assert.That(copy with { Method = "GET" }, Is.EqualTo(info));
        });
    }
}

[TestFixture]
public class HeaderCollectionTests
{
    [Test]
    public void Set_replaces_the_first_and_drops_later_values_keeping_order()
    {
        var h = new HeaderCollection().Add("A", "1").Add("B", "2").Add("a", "3").Add("C", "4").Add("A", "5");
        h.Set("a", "x");
        Assert.That(h.Select(kv => kv.Key + "=" + kv.Value), Is.EqualTo(new[] { "a=x", "B=2", "C=4" }));
        Assert.That(h.Count, Is.EqualTo(3));
    }

    [Test]
    public void Remove_drops_every_value_and_adding_past_the_capacity_grows()
    {
        var h = new HeaderCollection();
        for (var i = 0; i < 20; i++) h.Add(i % 2 == 0 ? "Even" : "Odd", i.ToString());
        Assert.That(h.Remove("EVEN"), Is.True);
        Assert.That(h.Remove("even"), Is.False);
        Assert.That(h.GetAll("odd"), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (2 * i + 1).ToString())));
        Assert.That(h.ToString(), Does.StartWith("Odd: 1\r\nOdd: 3"));
    }

    [Test]
    public void Clone_is_independent_and_writable()
    {
        var h = new HeaderCollection(new[] { new KeyValuePair<string, string>("A", "1") });
        var c = h.Clone().Add("B", "2");
        c["A"] = null;
        Assert.That(h.Select(kv => kv.Key), Is.EqualTo(new[] { "A" }));
        Assert.That(c.Select(kv => kv.Key), Is.EqualTo(new[] { "B" }));
    }
}
