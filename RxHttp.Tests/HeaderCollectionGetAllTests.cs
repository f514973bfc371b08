using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests;

[TestFixture]
public class HeaderCollectionGetAllTests
{
    [Test]
    public void GetAll_returns_every_value_in_wire_order_case_insensitively()
    {
        var h = new HeaderCollection().Add("Via", "a").Add("X", "1").Add("via", "b").Add("VIA", "c");
        Assert.Multiple(() =>
        {
            Assert.That(h.GetAll("via"), Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(h.GetAll("x"), Is.EqualTo(new[] { "1" }));
            Assert.That(h.GetAll("missing"), Is.Empty);
        });
    }
}

[TestFixture]
public class HeaderCollectionValuesTests
{
    [Test]
    public void Values_holds_what_GetAll_copies_in_the_same_order()
    {
        var h = new HeaderCollection().Add("Via", "a").Add("X", "1").Add("via", "b").Add("VIA", "c");
        Assert.Multiple(() =>
        {
            Assert.That(h.Values("via"), Is.EqualTo(h.GetAll("via")));
            Assert.That(h.Values("via")[2], Is.EqualTo("c"));
            Assert.That(h.Values("x"), Is.EqualTo(new[] { "1" }));
            Assert.That(h.Values("missing"), Is.Empty);
            Assert.That(h.Values("missing").Count, Is.Zero);
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = h.Values("x")[1]);
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = h.Values("missing")[0]);
        });
    }

    [Test]
    public void Framing_read_through_Values_sees_every_line_of_a_repeated_header()
    {
        var same = new HeaderCollection().Add("Content-Length", "5").Add("Server", "s").Add("content-length", "5");
        var different = new HeaderCollection().Add("Content-Length", "5").Add("Content-Length", "6");
        var close = new HeaderCollection().Add("Connection", "keep-alive").Add("connection", "close");
        Assert.Multiple(() =>
        {
            Assert.That(HttpFraming.Decide("GET", 200, same.Values("Transfer-Encoding"), same.Values("Content-Length"), out var length), Is.EqualTo(BodyFraming.ContentLength));
            Assert.That(length, Is.EqualTo(5));
            Assert.Throws<HttpParseException>(() => HttpFraming.Decide("GET", 200, different.Values("Transfer-Encoding"), different.Values("Content-Length"), out _));
            Assert.That(HttpFraming.IsKeepAlive(1, 1, close.Values("Connection")), Is.False);
            Assert.That(HttpFraming.IsKeepAlive(1, 1, same.Values("Connection")), Is.True);
        });
    }
}
