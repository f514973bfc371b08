using NUnit.Framework;

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
