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

    [TestCase("http://a_b.example/")]
    [TestCase("http://-a-.example/")]
    [TestCase("http://trailing.dot./")]
    [TestCase("http://Bücher.de./")]
    [TestCase("http://[fe80::1%25eth0]:8080/")]
    [TestCase("http://[fe80::1%eth0]/")]
    [TestCase("http://u:p@h/a%2Fb?q=%26#f")]
    [TestCase("http://a\\b\"c:p@h/", TestName = "User information with a backslash and a quote")]
    public void A_url_that_parses_converts_to_a_system_uri(string text)
    {
        Assert.That(Url.Parse(text).ToUri().IsAbsoluteUri, Is.True);
        Assert.That(Url.Parse(text, encoded: true).ToUri().IsAbsoluteUri, Is.True, "encoded");
    }

    [TestCase("http://a..b/x")]
    [TestCase("http://a!b/x")]
    public void A_host_system_uri_cannot_hold_is_an_invalid_url_not_a_uri_format_exception(string text)
    {
        // The jar is given each request's URL as a System.Uri, so with cookies in it such a host (reached through a
        // proxy, say) failed inside the request with UriFormatException. No DNS name has an empty label or a '!'.
        var jar = new CookieJar();
        jar.UpdateCookies(new[] { new KeyValuePair<string, string>("a", "1") }, new Uri("http://example.com/"));
        using var session = new ClientSession(new ClientSessionOptions { CookieJar = jar });
        Assert.ThrowsAsync<InvalidUrl>(async () => await session.Get(text, new() { Proxy = "http://127.0.0.1:9/" }));
    }
}
