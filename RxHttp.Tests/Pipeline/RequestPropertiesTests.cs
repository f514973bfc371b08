using NUnit.Framework;

namespace RxHttp.Tests.Pipeline;

/// <summary>A request's property bag (the caller's own middlewares' values) is per copy and made lazily.</summary>
[TestFixture]
public class RequestPropertiesTests
{
    [Test]
    public void Request_properties_are_created_on_demand_and_copied_per_hop()
    {
        var request = new ClientRequest("GET", Url.Parse("http://example.com/"));
        var copy = request.With();
        copy.Properties["k"] = 1;
        Assert.That(request.Properties, Is.Empty, "a copy made before any property existed does not share the dictionary");
        request.Properties["own"] = "x";
        var second = request.With();
        second.Properties.Remove("own");
        Assert.That(request.Properties["own"], Is.EqualTo("x"), "copies carry the values in their own dictionary");
        Assert.That(copy.Properties.ContainsKey("own"), Is.False);
    }
}
