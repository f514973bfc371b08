using NUnit.Framework;

namespace RxHttp.Tests.Urls;

/// <summary>The string-to-URL conversion that lets literals stand wherever a <see cref="Url"/> is taken.</summary>
public class UrlConversionTests
{
    [Test]
    public void A_null_string_is_an_unset_url_and_a_bad_one_is_still_refused()
    {
        // An optional proxy read from the environment: unset is null, not an ArgumentNullException from the setter.
        string? fromEnvironment = null;
        Assert.That(new RequestOptions { Proxy = fromEnvironment }.Proxy, Is.Null);
        Assert.That(new RequestOptions { Proxy = "http://proxy:3128" }.Proxy?.Port, Is.EqualTo(3128));
        Url literal = "http://example.com/a";
        Assert.That(literal.Path, Is.EqualTo("/a"));
        Assert.Throws<InvalidUrl>(() => _ = new RequestOptions { Proxy = "http://exa mple.com/" });
    }
}
