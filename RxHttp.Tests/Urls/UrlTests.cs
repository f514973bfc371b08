using System.Globalization;
using NUnit.Framework;

namespace RxHttp.Tests.Urls;

public class UrlCanonicalisationTests
{
    private static IEnumerable<TestCaseData> Canonical()
    {
        TestCaseData Case(string input, string expected, string name) => new TestCaseData(input, expected).SetName($"Canonical: {name}");

        yield return Case("http://example.com/путь/%30?a=%31", "http://example.com/%D0%BF%D1%83%D1%82%D1%8C/0?a=1", "quickstart example");
        yield return Case("HTTP://Example.COM/Path", "http://example.com/Path", "scheme and host lower-cased, path case kept");
        yield return Case("http://example.com", "http://example.com/", "empty path becomes /");
        yield return Case("http://h/a%2Fb", "http://h/a%2Fb", "reserved escape %2F kept");
        yield return Case("http://h/a%2fb", "http://h/a%2Fb", "hex upper-cased");
        yield return Case("http://h/%2B", "http://h/%2B", "protected + escape kept in path");
        yield return Case("http://h/a+b", "http://h/a+b", "literal + kept in path");
        yield return Case("http://h/%7euser", "http://h/~user", "unreserved escape decoded");
        yield return Case("http://h/%41%42", "http://h/AB", "escaped letters decoded");
        yield return Case("http://h/a%3Db", "http://h/a=b", "= needs no escape in a path (yarl decodes it)");
        yield return Case("http://h/a b", "http://h/a%20b", "space in path");
        yield return Case("http://h/a\tb", "http://h/a%09b", "tab (a control) in path");
        yield return Case("http://h/a\"<>|`{}^\\", "http://h/a%22%3C%3E%7C%60%7B%7D%5E%5C", "characters never allowed literally");
        yield return Case("http://h/100%", "http://h/100%25", "stray % at the end");
        yield return Case("http://h/%zz", "http://h/%25zz", "stray % before non-hex");
        yield return Case("http://h/%4", "http://h/%254", "stray % with one hex digit");
        yield return Case("http://h/%d0%bf", "http://h/%D0%BF", "non-ASCII escapes kept, upper-cased");
        yield return Case("http://h/ü", "http://h/%C3%BC", "non-ASCII as UTF-8");
        yield return Case("http://h/😀", "http://h/%F0%9F%98%80", "astral character as 4 UTF-8 bytes");
        yield return Case("http://h/a/./b/../c", "http://h/a/c", "dot segments removed");
        yield return Case("http://h/a/%2E%2E/c", "http://h/c", "escaped dot segments removed");
        yield return Case("http://h/a/..", "http://h/", "trailing .. keeps the slash");
        yield return Case("http://h/../../x", "http://h/x", "dot segments above the root");
        yield return Case("http://h/a//b", "http://h/a//b", "empty segments kept");
        yield return Case("http://h/?q=a b", "http://h/?q=a+b", "space in query becomes + (yarl's query requoter)");
        yield return Case("http://h/?q=a+b", "http://h/?q=a+b", "+ in query kept");
        yield return Case("http://h/?q=%2B%26%3D%3B", "http://h/?q=%2B%26%3D%3B", "query separators stay escaped");
        yield return Case("http://h/?q=%2f%3f", "http://h/?q=/?", "/ and ? need no escape in a query");
        yield return Case("http://h/?q=%20", "http://h/?q=%20", "escaped space kept");
        yield return Case("http://h/?é=ü", "http://h/?%C3%A9=%C3%BC", "non-ASCII query");
        yield return Case("http://h/?a=1&b=2;c", "http://h/?a=1&b=2;c", "plain query unchanged");
        yield return Case("http://h/p?", "http://h/p", "empty ? dropped");
        yield return Case("http://h/p#Frag ment", "http://h/p#Frag%20ment", "fragment requoted, kept in ToString");
        yield return Case("http://h:080/", "http://h:80/", "port leading zeros");
        yield return Case("http://h:0008080/", "http://h:8080/", "leading zeros do not count against a port's five digits");
        yield return Case("http://h:000000/", "http://h:0/", "port of zeros only");
        yield return Case("http://h:/", "http://h/", "empty port");
        yield return Case("http://h:80/", "http://h:80/", "explicit default port kept in the string");
        yield return Case("http://[::1]:8080/", "http://[::1]:8080/", "IPv6 literal");
        yield return Case("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/", "IPv6 compressed");
        yield return Case("http://[2001:DB8::A]/", "http://[2001:db8::a]/", "IPv6 lower-cased");
        yield return Case("http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai/", "IDNA host");
        yield return Case("http://ПРИМЕР.рф/", "http://xn--e1afmkfd.xn--p1ai/", "IDNA host with upper case");
        yield return Case("http://us er:p@ss@h/", "http://us%20er:p%40ss@h/", "user info requoted, last @ ends it");
        yield return Case("/a/../b?x=1 2#f", "/a/../b?x=1+2#f", "relative reference: requoted but dots kept until joined");
        yield return Case("//Host/p", "//host/p", "network-path reference");
        yield return Case("mailto:Me@Example.com", "mailto:Me@Example.com", "non-hierarchical URL");
    }

    [TestCaseSource(nameof(Canonical))]
    public void Requotes_to_the_canonical_form(string input, string expected)
    {
        var url = Url.Parse(input);
        Assert.That(url.ToString(), Is.EqualTo(expected));
        Assert.That(Url.Parse(expected).ToString(), Is.EqualTo(expected), "canonical form must be a fixed point");
    }

    [Test]
    public void Quickstart_example_parts()
    {
        var url = Url.Parse("http://example.com/путь/%30?a=%31");
        Assert.That(url.Path, Is.EqualTo("/%D0%BF%D1%83%D1%82%D1%8C/0"));
        Assert.That(url.Query, Is.EqualTo("a=1"));
        Assert.That(url.PathAndQuery, Is.EqualTo("/%D0%BF%D1%83%D1%82%D1%8C/0?a=1"));
    }

    [Test]
    public void Idna_host()
    {
        var url = Url.Parse("http://пример.рф/");
        Assert.That(url.Host, Is.EqualTo("xn--e1afmkfd.xn--p1ai"));
        Assert.That(url.HostHeader, Is.EqualTo("xn--e1afmkfd.xn--p1ai"));
    }

    [Test]
    public void Components_of_a_full_url()
    {
        var url = Url.Parse("HTTPS://user:p%40ss@Example.com:8443/a/b?x=1#top");
        Assert.Multiple(() =>
        {
            Assert.That(url.Scheme, Is.EqualTo("https"));
            Assert.That(url.User, Is.EqualTo("user"));
            Assert.That(url.Password, Is.EqualTo("p@ss"));
            Assert.That(url.RawPassword, Is.EqualTo("p%40ss"));
            Assert.That(url.Host, Is.EqualTo("example.com"));
            Assert.That(url.Port, Is.EqualTo(8443));
            Assert.That(url.ExplicitPort, Is.EqualTo(8443));
            Assert.That(url.IsAbsolute, Is.True);
            Assert.That(url.IsSecure, Is.True);
            Assert.That(url.Path, Is.EqualTo("/a/b"));
            Assert.That(url.Query, Is.EqualTo("x=1"));
            Assert.That(url.Fragment, Is.EqualTo("top"));
            Assert.That(url.PathAndQuery, Is.EqualTo("/a/b?x=1"));
            Assert.That(url.HostHeader, Is.EqualTo("example.com:8443"));
            Assert.That(url.Origin, Is.EqualTo("https://example.com:8443"));
            Assert.That(url.ToString(), Is.EqualTo("https://user:p%40ss@example.com:8443/a/b?x=1#top"));
        });
    }

    [Test]
    public void User_info()
    {
        var url = Url.Parse("http://user:p%40ss@host/");
        Assert.That(url.User, Is.EqualTo("user"));
        Assert.That(url.Password, Is.EqualTo("p@ss"));
        Assert.That(Url.Parse("http://user@host/").Password, Is.Null);
        Assert.That(Url.Parse("http://user:@host/").Password, Is.EqualTo(""));
        Assert.That(Url.Parse("http://host/").User, Is.Null);
    }

    [Test]
    public void Ipv6_literal()
    {
        var url = Url.Parse("http://[::1]:8080/");
        Assert.That(url.Host, Is.EqualTo("::1"));
        Assert.That(url.HostHeader, Is.EqualTo("[::1]:8080"));
        Assert.That(url.Origin, Is.EqualTo("http://[::1]:8080"));
        Assert.That(Url.Parse("http://[::1]/").HostHeader, Is.EqualTo("[::1]"));
    }

    [TestCase("http://h/", 80, null)]
    [TestCase("https://h/", 443, null)]
    [TestCase("ws://h/", 80, null)]
    [TestCase("wss://h/", 443, null)]
    [TestCase("http://h:8080/", 8080, 8080)]
    [TestCase("https://h:443/", 443, 443)]
    public void Ports(string input, int port, int? explicitPort)
    {
        var url = Url.Parse(input);
        Assert.That(url.Port, Is.EqualTo(port));
        Assert.That(url.ExplicitPort, Is.EqualTo(explicitPort));
    }

    [TestCase("http://h:80/", "h")]
    [TestCase("https://h:443/", "h")]
    [TestCase("https://h:80/", "h:80")]
    [TestCase("ws://h:8080/", "h:8080")]
    public void Host_header_omits_only_the_default_port(string input, string expected)
        => Assert.That(Url.Parse(input).HostHeader, Is.EqualTo(expected));

    [Test]
    public void Same_origin()
    {
        Url a = "http://h/a";
        Assert.That(a.IsSameOrigin("http://H:80/b?x"), Is.True);
        Assert.That(a.IsSameOrigin("https://h/a"), Is.False);
        Assert.That(a.IsSameOrigin("http://h:81/a"), Is.False);
        Assert.That(a.IsSameOrigin("http://g/a"), Is.False);
    }

    [Test]
    public void Without_fragment_and_credentials()
    {
        Url url = "http://u:p@h/p?q#f";
        Assert.That(url.WithoutFragment().ToString(), Is.EqualTo("http://u:p@h/p?q"));
        Assert.That(url.WithoutFragment().Fragment, Is.Null);
        Assert.That(url.WithoutCredentials().ToString(), Is.EqualTo("http://h/p?q#f"));
        Assert.That(url.WithoutCredentials().User, Is.Null);
        Url plain = "http://h/";
        Assert.That(plain.WithoutFragment(), Is.SameAs(plain));
        Assert.That(plain.WithoutCredentials(), Is.SameAs(plain));
    }

    [Test]
    public void Relative_reference()
    {
        var url = Url.Parse("/path?x=1");
        Assert.That(url.IsAbsolute, Is.False);
        Assert.That(url.Scheme, Is.EqualTo(""));
        Assert.That(url.Host, Is.EqualTo(""));
        Assert.That(url.Port, Is.EqualTo(0));
        Assert.That(url.Path, Is.EqualTo("/path"));
        Assert.That(() => url.Origin, Throws.InvalidOperationException);
    }

    [Test]
    public void Equality_is_by_canonical_form()
    {
        Assert.That(Url.Parse("HTTP://H/%7e"), Is.EqualTo(Url.Parse("http://h/~")));
        Assert.That(Url.Parse("HTTP://H/%7e").GetHashCode(), Is.EqualTo(Url.Parse("http://h/~").GetHashCode()));
        Assert.That(Url.Parse("http://h/a") == Url.Parse("http://h/a"), Is.True);
        Assert.That(Url.Parse("http://h/a") != Url.Parse("http://h/b"), Is.True);
        Assert.That(Url.Parse("http://h/a").Equals(null), Is.False);
    }

    [Test]
    public void Uri_round_trip()
    {
        var url = Url.Parse("http://h/a%2Fb/%D0%BF?q=a+b%26c");
        var uri = url.ToUri();
        Assert.That(uri.IsAbsoluteUri, Is.True);
        Assert.That(uri.AbsoluteUri, Is.EqualTo("http://h/a%2Fb/%D0%BF?q=a+b%26c"));
        Assert.That(uri.PathAndQuery, Is.EqualTo(url.PathAndQuery));
        Assert.That(Url.FromUri(uri), Is.EqualTo(url));
        Assert.That(Url.FromUri(new Uri("/rel?x=1", UriKind.Relative)).ToString(), Is.EqualTo("/rel?x=1"));
        Assert.That(Url.Parse("/rel").ToUri().IsAbsoluteUri, Is.False);
    }

    [Test]
    public void Uri_keeps_every_component()
    {
        var uri = Url.Parse("http://u:p%40s@[::1]:8080/a%2Fb?q=1#frag").ToUri();
        Assert.Multiple(() =>
        {
            Assert.That(uri.Scheme, Is.EqualTo("http"));
            Assert.That(uri.UserInfo, Is.EqualTo("u:p%40s"));
            Assert.That(uri.Host, Is.EqualTo("[::1]"));
            Assert.That(uri.Port, Is.EqualTo(8080));
            Assert.That(uri.AbsolutePath, Is.EqualTo("/a%2Fb"));
            Assert.That(uri.Query, Is.EqualTo("?q=1"));
            Assert.That(uri.Fragment, Is.EqualTo("#frag"));
        });
    }

    [Test]
    public void Plain_ascii_url_takes_the_fast_path()
    {
        const string text = "http://127.0.0.1:5000/path?x=1";
        var url = Url.Parse(text);
        Assert.That(url.ToString(), Is.SameAs(text), "an already canonical string is reused, not rebuilt");

        for (var i = 0; i < 100; i++) Url.Parse(text); // warm up
        const int n = 1000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < n; i++) _ = Url.Parse(text).PathAndQuery;
        var perParse = (GC.GetAllocatedBytesForCurrentThread() - before) / n;
        // The Url object, the host, path and query substrings and the PathAndQuery concatenation.
        Assert.That(perParse, Is.LessThan(400), $"allocated {perParse} bytes per parse");
    }
}

public class UrlEncodedModeTests
{
    [Test]
    public void Path_and_query_are_kept_byte_for_byte()
    {
        var url = Url.Parse("http://h/%30/a%2fb/../c?a=%31&b=c d+e".Replace(" ", "%20"), encoded: true);
        Assert.That(url.Path, Is.EqualTo("/%30/a%2fb/../c"));
        Assert.That(url.Query, Is.EqualTo("a=%31&b=c%20d+e"));
        Assert.That(url.ToString(), Is.EqualTo("http://h/%30/a%2fb/../c?a=%31&b=c%20d+e"));
    }

    [Test]
    public void Uri_is_not_recanonicalised()
    {
        var uri = Url.Parse("http://h/%30/a%2fb?a=%31", encoded: true).ToUri();
        Assert.That(uri.PathAndQuery, Is.EqualTo("/%30/a%2fb?a=%31"));
    }

    [Test]
    public void Raw_bytes_are_not_encoded()
    {
        var url = Url.Parse("http://h/путь?q=ü", encoded: true);
        Assert.That(url.Path, Is.EqualTo("/путь"));
        Assert.That(url.Query, Is.EqualTo("q=ü"));
    }

    [Test]
    public void Host_is_still_canonicalised()
    {
        var url = Url.Parse("http://ПРИМЕР.рф/%30", encoded: true);
        Assert.That(url.Host, Is.EqualTo("xn--e1afmkfd.xn--p1ai"));
        Assert.That(url.Path, Is.EqualTo("/%30"));
    }

    [TestCase("http://h/a b")]
    [TestCase("http://h/?a=b c")]
    [TestCase("http://h/a\tb")]
    [TestCase("http://h/a\r\nb")]
    [TestCase("http://h h/")]
    public void Characters_that_would_break_the_request_line_are_refused(string input)
        => Assert.That(() => Url.Parse(input, encoded: true), Throws.InstanceOf<InvalidUrl>());
}

public class UrlInvalidTests
{
    private static IEnumerable<TestCaseData> Invalid()
    {
        TestCaseData Case(string input, string name) => new TestCaseData(input).SetName($"Invalid: {name}");
        yield return Case("example.com/path", "no scheme");
        yield return Case("/path", "relative path");
        yield return Case("//h/path", "network-path reference has no scheme");
        yield return Case("http://", "no host");
        yield return Case("http:///path", "empty host");
        yield return Case("http:path", "no authority");
        yield return Case("http://user@/", "only user info");
        yield return Case("http://exa mple.com/", "space in host");
        yield return Case("http://exa<mple.com/", "< in host");
        yield return Case("http://exa%20mple.com/", "escape in host");
        yield return Case("http://h]/", "] in host");
        yield return Case("http://a..b/", "empty label in host");
        yield return Case("http://.a/", "host starting with a dot");
        yield return Case("http://./", "host of a dot");
        yield return Case("http://a!b/", "sub-delimiter in host");
        yield return Case("http://a~b/", "tilde in host");
        yield return Case("http://ｅｘａｍｐｌｅ！.com/", "full-width ! that IDNA maps to !");
        yield return Case($"http://{new string('a', 255)}.com/", "label of 255 characters");
        yield return Case("http://example.-1omle.-1om/", "labels System.Uri refuses (found by the url fuzz target)");
        yield return Case($"ws://{new string('9', 75)}/", "a 75-digit name System.Uri refuses (found by the url fuzz target)");
        yield return Case("http://[fe80::1%]/", "empty IPv6 zone");
        yield return Case("http://[fe80::1%eth 0]/", "space in IPv6 zone");
        yield return Case("http://[fe80::1%25eth%2F0]/", "escaped slash in IPv6 zone");
        yield return Case("http://[::1/", "unclosed IPv6 bracket");
        yield return Case("http://[zz::1]/", "invalid IPv6");
        yield return Case("http://[127.0.0.1]/", "IPv4 in brackets");
        yield return Case("http://[::1]x/", "text after IPv6");
        yield return Case("ftp://h/", "ftp scheme");
        yield return Case("file:///etc/passwd", "file scheme");
        yield return Case("javascript:alert(1)", "javascript scheme");
        yield return Case("http://h:0/", "port 0");
        yield return Case("http://h:65536/", "port above 65535");
        yield return Case("http://h:99999999999/", "port overflowing int");
        yield return Case("http://h:0065536/", "port above 65535 after leading zeros");
        yield return Case("http://h:8o/", "port with a letter");
        yield return Case("http://h:-1/", "negative port");
        yield return Case("http://h: 80/", "port with a space");
        yield return Case("http://h/\r\nX-Injected: 1", "CR LF in path");
        yield return Case("http://h/?a=\n", "LF in query");
        yield return Case("http://h/#\r", "CR in fragment");
        yield return Case("http://h/\0", "NUL in path");
        yield return Case("http://h\r\n.com/", "CR LF in host");
        yield return Case("http://u\n@h/", "LF in user info");
    }

    [TestCaseSource(nameof(Invalid))]
    public void Request_urls_are_refused(string input)
    {
        var e = Assert.Throws(Is.InstanceOf<InvalidUrl>(), () => Url.ParseAbsolute(input))!;
        var invalid = (InvalidUrl)e;
        Assert.That(invalid, Is.InstanceOf<InvalidUrlClientError>());
        Assert.That(invalid.Description, Is.Not.Null.And.Not.Empty);
        Assert.That(invalid.Message, Does.Contain(invalid.Description));
    }

    [TestCase("ftp://h/")]
    [TestCase("mailto:x@y")]
    public void Other_schemes_raise_non_http_error(string input)
        => Assert.That(() => Url.ParseAbsolute(input), Throws.InstanceOf<NonHttpUrlClientError>());

    [Test]
    public void Websocket_schemes_can_be_excluded()
    {
        Assert.That(Url.ParseAbsolute("wss://h/").Scheme, Is.EqualTo("wss"));
        Assert.That(() => Url.ParseAbsolute("ws://h/", allowWebSocket: false), Throws.InstanceOf<NonHttpUrlClientError>());
    }

    [TestCase("http://h/\r\n")]
    [TestCase("http://exa mple.com/")]
    [TestCase("http://h:65536/")]
    [TestCase("http://h:x/")]
    [TestCase("/a\0")]
    public void Parse_itself_refuses_malformed_urls(string input)
    {
        var e = Assert.Throws<InvalidUrl>(() => Url.Parse(input))!;
        Assert.That(e.Url, Is.EqualTo(input));
    }

    [Test]
    public void Implicit_conversion_throws_invalid_url()
        => Assert.That(() => { Url u = "http://h:x/"; }, Throws.InstanceOf<InvalidUrl>());

    [TestCase("http://127.0.0.1:5000/path?x=1")]
    [TestCase("https://h:1/")]
    [TestCase("https://h:65535/")]
    [TestCase("ws://[::1]/")]
    public void Valid_request_urls_pass(string input)
        => Assert.That(Url.ParseAbsolute(input).ToString(), Is.EqualTo(input));
}

/// <summary>A URL's text reads back as the same URL (found by the url fuzz target).</summary>
[TestFixture]
public class UrlRoundTripTests
{
    [TestCase("h836%47:?x", "./h836G:?x", TestName = "Requoting that makes a scheme-like first segment keeps it a path (./)")]
    [TestCase("a%3Ab:c/d", "./a:b:c/d", TestName = "A colon in the first segment of a relative path gets ./")]
    [TestCase("a/b:c", "a/b:c", TestName = "A colon after the first slash needs nothing")]
    [TestCase("/a:b", "/a:b", TestName = "An absolute path needs nothing")]
    public void A_relative_url_reparses_to_itself(string input, string expected)
    {
        var url = Url.Parse(input);
        Assert.That(url.ToString(), Is.EqualTo(expected));
        Assert.That(Url.Parse(url.ToString()).ToString(), Is.EqualTo(expected));
        Assert.That(Url.Parse(url.ToString()).IsAbsolute, Is.False);
    }

    [Test]
    public void A_path_starting_with_two_slashes_without_a_host_keeps_it_a_path()
    {
        var relative = Url.Parse("/.//evil.example/p");
        Assert.That(Url.Parse(relative.ToString()).Host, Is.Empty, relative.ToString());
        Assert.That(Url.Parse(relative.ToString()).ToString(), Is.EqualTo(relative.ToString()));
    }
}
