using NUnit.Framework;

namespace RxHttp.Tests.Cookies;

public class CookieParsingTests
{
    [TestCase("a=1", "a", "1")]
    [TestCase("  a  =  1  ; Path=/", "a", "1")]
    [TestCase("a=", "a", "")]
    [TestCase("a=b=c", "a", "b=c")]
    [TestCase("a=\"quoted value\"", "a", "\"quoted value\"")]
    [TestCase("a=with space", "a", "with space")]
    [TestCase("Secure=1", "Secure", "1")]
    // §5.2: the name is whatever precedes the first '=', trimmed; quotes and inner spaces stay part of it.
    [TestCase("a b=1", "a b", "1")]
    [TestCase("\"a\"=1", "\"a\"", "1")]
    [TestCase("  a\"b c \t= 1 ; Path=/", "a\"b c", "1")]
    [TestCase("a\tb=1", "a\tb", "1")]
    [TestCase("a,b=1", "a,b", "1")]
    public void Name_value_pair(string header, string name, string value)
    {
        var parsed = SetCookieParser.Parse(header);
        Assert.That(parsed, Is.Not.Null);
        Assert.That((parsed!.Name, parsed.Value), Is.EqualTo((name, value)));
    }

    [TestCase("")]
    [TestCase("noequals")]
    [TestCase("=value")]
    [TestCase(" =value; Path=/")]
    [TestCase("; a=1")]
    [TestCase("a\u0001b=1")]
    [TestCase("a\u001Fb=1")]
    [TestCase("a\u007Fb=1")]
    [TestCase("a\nb=1")]
    [TestCase("a=b\r\nX-Injected: y")]
    [TestCase("a=b\u0000")]
    public void Malformed_headers_yield_nothing(string header) => Assert.That(SetCookieParser.Parse(header), Is.Null);

    [Test]
    public void Attributes_are_case_insensitive_and_the_last_one_wins()
    {
        var p = SetCookieParser.Parse("a=1; DOMAIN=.Example.COM; path=/x; PATH=/y; SECURE; httponly; SameSite=Lax; max-AGE=5; Unknown=z")!;
        Assert.Multiple(() =>
        {
            Assert.That(p.Domain, Is.EqualTo("example.com"));
            Assert.That(p.Path, Is.EqualTo("/y"));
            Assert.That(p.Secure, Is.True);
            Assert.That(p.HttpOnly, Is.True);
            Assert.That(p.SameSite, Is.EqualTo("Lax"));
            Assert.That(p.MaxAge, Is.EqualTo(5));
        });
    }

    [TestCase("a=1; Path=relative", null)]
    [TestCase("a=1; Path=", null)]
    [TestCase("a=1; Path=/ok", "/ok")]
    public void Path_not_starting_with_slash_falls_back_to_default(string header, string? path) =>
        Assert.That(SetCookieParser.Parse(header)!.Path, Is.EqualTo(path));

    [TestCase("a=1; Domain=", null)]
    [TestCase("a=1; Domain=.", null)]
    [TestCase("a=1; Domain=..example.com", ".example.com")]
    public void Odd_domains(string header, string? domain) => Assert.That(SetCookieParser.Parse(header)!.Domain, Is.EqualTo(domain));

    [TestCase("5", 5L)]
    [TestCase("0", 0L)]
    [TestCase("-3", -3L)]
    [TestCase("99999999999999999999999", long.MaxValue)]
    public void Max_age_valid(string text, long expected)
    {
        Assert.That(SetCookieParser.TryParseMaxAge(text, out var v), Is.True);
        Assert.That(v, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("-")]
    [TestCase("+5")]
    [TestCase("5s")]
    [TestCase("1.5")]
    [TestCase(" 5")]
    public void Max_age_invalid(string text) => Assert.That(SetCookieParser.TryParseMaxAge(text, out _), Is.False);

    [TestCase("/", "/", true)]
    [TestCase("/docs", "/docs", true)]
    [TestCase("/docs/", "/docs", true)]
    [TestCase("/docs/web", "/docs", true)]
    [TestCase("/docs/web", "/docs/", true)]
    [TestCase("/docsets", "/docs", false)]
    [TestCase("/doc", "/docs", false)]
    [TestCase("/docs", "/docs/", false)]
    [TestCase("/", "/docs", false)]
    [TestCase("/anything", "/", true)]
    public void Path_match(string requestPath, string cookiePath, bool matches) =>
        Assert.That(CookieJar.PathMatches(requestPath, cookiePath), Is.EqualTo(matches));

    [TestCase("http://h/", "/")]
    [TestCase("http://h", "/")]
    [TestCase("http://h/foo", "/")]
    [TestCase("http://h/foo/bar", "/foo")]
    [TestCase("http://h/foo/bar/", "/foo/bar")]
    [TestCase("http://h/foo/bar?x=/y/z", "/foo")]
    public void Default_path(string url, string expected) => Assert.That(CookieJar.DefaultPath(new Uri(url)), Is.EqualTo(expected));

    [TestCase("plain", "plain")]
    [TestCase("val=foobar", "\"val=foobar\"")]
    [TestCase("a b", "\"a b\"")]
    [TestCase("a\"b", "\"a\\\"b\"")]
    [TestCase("a\\b", "\"a\\\\b\"")]
    [TestCase("a;b,c", "\"a\\073b\\054c\"")]
    [TestCase("é", "\"\\351\"")]
    [TestCase("", "\"\"")]
    public void Quote_matches_pythons_simple_cookie(string value, string coded) => Assert.That(CookieJar.Quote(value), Is.EqualTo(coded));
}
