using System.Globalization;
using NUnit.Framework;

namespace RxHttp.Tests.Urls;

public class UrlJoinTests
{
    private const string Base = "http://a/b/c/d;p?q";

    // RFC 3986 §5.4.1 and §5.4.2. "//g" gives "http://g/" rather than "http://g": an empty path with an
    // authority is canonicalised to "/" (RFC 3986 §6.2.3), the request-target that would be sent anyway.
    private static IEnumerable<TestCaseData> Rfc3986()
    {
        string[][] normal =
        [
            ["g:h", "g:h"], ["g", "http://a/b/c/g"], ["./g", "http://a/b/c/g"], ["g/", "http://a/b/c/g/"],
            ["/g", "http://a/g"], ["//g", "http://g/"], ["?y", "http://a/b/c/d;p?y"], ["g?y", "http://a/b/c/g?y"],
            ["#s", "http://a/b/c/d;p?q#s"], ["g#s", "http://a/b/c/g#s"], ["g?y#s", "http://a/b/c/g?y#s"],
            [";x", "http://a/b/c/;x"], ["g;x", "http://a/b/c/g;x"], ["g;x?y#s", "http://a/b/c/g;x?y#s"],
            ["", "http://a/b/c/d;p?q"], [".", "http://a/b/c/"], ["./", "http://a/b/c/"], ["..", "http://a/b/"],
            ["../", "http://a/b/"], ["../g", "http://a/b/g"], ["../..", "http://a/"], ["../../", "http://a/"],
            ["../../g", "http://a/g"],
        ];
        string[][] abnormal =
        [
            ["../../../g", "http://a/g"], ["../../../../g", "http://a/g"], ["/./g", "http://a/g"], ["/../g", "http://a/g"],
            ["g.", "http://a/b/c/g."], [".g", "http://a/b/c/.g"], ["g..", "http://a/b/c/g.."], ["..g", "http://a/b/c/..g"],
            ["./../g", "http://a/b/g"], ["./g/.", "http://a/b/c/g/"], ["g/./h", "http://a/b/c/g/h"], ["g/../h", "http://a/b/c/h"],
            ["g;x=1/./y", "http://a/b/c/g;x=1/y"], ["g;x=1/../y", "http://a/b/c/y"], ["g?y/./x", "http://a/b/c/g?y/./x"],
            ["g?y/../x", "http://a/b/c/g?y/../x"], ["g#s/./x", "http://a/b/c/g#s/./x"], ["g#s/../x", "http://a/b/c/g#s/../x"],
            ["http:g", "http:g"],
        ];
        foreach (var c in normal) yield return new TestCaseData(c[0], c[1]).SetName($"RFC 3986 5.4.1 \"{c[0]}\"");
        foreach (var c in abnormal) yield return new TestCaseData(c[0], c[1]).SetName($"RFC 3986 5.4.2 \"{c[0]}\"");
    }

    [TestCaseSource(nameof(Rfc3986))]
    public void Resolves_references(string reference, string expected)
        => Assert.That(Url.Parse(Base).Join(Url.Parse(reference)).ToString(), Is.EqualTo(expected));

    [Test]
    public void Relative_location_header()
    {
        Url from = "https://example.com:8443/a/b?x=1";
        Assert.That(from.Join("../c?y=2").ToString(), Is.EqualTo("https://example.com:8443/c?y=2"));
        Assert.That(from.Join("//other.org/p").ToString(), Is.EqualTo("https://other.org/p"));
        Assert.That(from.Join("http://x/").ToString(), Is.EqualTo("http://x/"));
    }

    [TestCase("http://h/api/", "users", "http://h/api/users")]
    [TestCase("http://h/api/", "/users", "http://h/users")]
    [TestCase("http://h/api/", "users?x=1", "http://h/api/users?x=1")]
    [TestCase("http://h/api/", "../v2/users", "http://h/v2/users")]
    [TestCase("http://h/api/?token=1#f", "users", "http://h/api/users")]
    [TestCase("http://h/api/?token=1", "", "http://h/api/")]
    [TestCase("http://h/api/", "?x=1", "http://h/api/?x=1")]
    [TestCase("http://h", "users", "http://h/users")]
    [TestCase("http://h:8080/", "//g/x", "http://g/x")]
    [TestCase("http://h/api/", "https://other/x", "https://other/x")]
    public void Join_base(string baseUrl, string url, string expected)
        => Assert.That(Url.JoinBase(baseUrl, url).ToString(), Is.EqualTo(expected));

    [Test]
    public void Join_base_without_base_returns_the_url()
    {
        Url url = "/relative";
        Assert.That(Url.JoinBase(null, url), Is.SameAs(url));
    }

    [TestCase("/api/")]
    [TestCase("//h/api/")]
    [TestCase("http://h/api")]
    [TestCase("http://h/api/v1")]
    public void Join_base_rejects_bad_bases(string baseUrl)
        => Assert.That(() => Url.JoinBase(baseUrl, "users"), Throws.ArgumentException);
}

public class QueryParamsTests
{
    private static IEnumerable<TestCaseData> Forms()
    {
        TestCaseData Case(string url, QueryParams? p, string expected, string name)
            => new TestCaseData(url, p, expected).SetName($"Params: {name}");

        yield return Case("http://h/", new Dictionary<string, string> { ["key1"] = "value1", ["key2"] = "value2" },
            "http://h/?key1=value1&key2=value2", "quickstart dictionary");
        yield return Case("http://h/", new[] { ("key", "value1"), ("key", "value2") },
            "http://h/?key=value1&key=value2", "quickstart list of pairs, repeats kept");
        yield return Case("http://h/", "key=value+1", "http://h/?key=value+1", "quickstart raw string keeps +");
        yield return Case("http://h/", "?key=value", "http://h/?key=value", "raw string with leading ?");
        yield return Case("http://h/", "a=b c&d=%7E&e=%2B", "http://h/?a=b+c&d=~&e=%2B", "raw string requoted like a URL query");
        yield return Case("http://h/", new Dictionary<string, object?> { ["i"] = 1, ["l"] = 2L, ["d"] = 1.5, ["m"] = 2.50m, ["t"] = true, ["f"] = false, ["n"] = null },
            "http://h/?i=1&l=2&d=1.5&m=2.50&t=true&f=false&n=", "typed values");
        yield return Case("http://h/", new Dictionary<string, string[]> { ["k"] = ["a", "b"], ["j"] = ["c"] },
            "http://h/?k=a&k=b&j=c", "dictionary of arrays");
        yield return Case("http://h/", new Dictionary<string, List<string>> { ["k"] = ["a", "b"] },
            "http://h/?k=a&k=b", "dictionary of lists");
        yield return Case("http://h/", new (string, object?)[] { ("a", 1), ("a", "x"), ("b", null) },
            "http://h/?a=1&a=x&b=", "array of object tuples");
        yield return Case("http://h/", new List<KeyValuePair<string, string>> { new("z", "1"), new("a", "2"), new("z", "3") },
            "http://h/?z=1&a=2&z=3", "list of KeyValuePair");
        yield return Case("http://h/", new List<KeyValuePair<string, object?>> { new("z", 1), new("z", 2.25) },
            "http://h/?z=1&z=2.25", "list of object KeyValuePair");
        yield return Case("http://h/", new QueryParams((IEnumerable<KeyValuePair<string, object?>>)new[] { new KeyValuePair<string, object?>("k", 7) }),
            "http://h/?k=7", "IEnumerable of object KeyValuePair");
        yield return Case("http://h/", QueryParams.From(Enumerable.Range(1, 3).Select(i => ("n", (object?)i))),
            "http://h/?n=1&n=2&n=3", "IEnumerable of tuples");
        yield return Case("http://h/", QueryParams.From(new SortedDictionary<string, int> { ["b"] = 2, ["a"] = 1 }),
            "http://h/?a=1&b=2", "generic From");
        yield return Case("http://h/", new QueryParams { { "k", "v" }, { "k", 2 } }, "http://h/?k=v&k=2", "collection initializer");
        yield return Case("http://h/", new Dictionary<string, string> { ["q"] = "a b+c&d=e/f?g:h@i;j#k%l" },
            "http://h/?q=a+b%2Bc%26d%3De/f?g:h@i%3Bj%23k%25l", "value encoding like yarl's query part quoter");
        yield return Case("http://h/", new Dictionary<string, string> { ["k y"] = "é", ["ключ"] = "😀" },
            "http://h/?k+y=%C3%A9&%D0%BA%D0%BB%D1%8E%D1%87=%F0%9F%98%80", "keys encoded too, UTF-8");
        yield return Case("http://h/?a=1", new Dictionary<string, string> { ["b"] = "2" }, "http://h/?a=1&b=2", "merged after the existing query");
        yield return Case("http://h/?a=1", "a=2", "http://h/?a=1&a=2", "raw string merged");
        yield return Case("http://h/p#f", new Dictionary<string, string> { ["x"] = "1" }, "http://h/p?x=1#f", "fragment stays last");
        yield return Case("http://h/?a=1", new Dictionary<string, string>(), "http://h/?a=1", "empty params change nothing");
        yield return Case("http://h/?a=1", null, "http://h/?a=1", "null params change nothing");
        yield return Case("/rel", new Dictionary<string, string> { ["x"] = "1" }, "/rel?x=1", "relative URL");
    }

    [TestCaseSource(nameof(Forms))]
    public void Builds_the_query(string url, QueryParams? p, string expected)
        => Assert.That(Url.Parse(url).WithQuery(p).ToString(), Is.EqualTo(expected));

    [Test]
    public void Tuple_array_and_collection_expression_of_pairs()
    {
        // A collection expression's elements must convert to the iteration type (KeyValuePair), so tuples
        // go through an array; KeyValuePair elements work directly.
        QueryParams tuples = new[] { ("key", "value1"), ("key", "value2") };
        QueryParams pairs = [new("key", "value1"), new("key", "value2")];
        Assert.That(tuples.Encode(), Is.EqualTo("key=value1&key=value2"));
        Assert.That(pairs.Encode(), Is.EqualTo("key=value1&key=value2"));
    }

    [Test]
    public void Values_ignore_the_current_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            QueryParams p = new Dictionary<string, object?> { ["d"] = 1234.5, ["m"] = 0.1m, ["f"] = 2.5f, ["dt"] = new DateTime(2024, 1, 2) };
            Assert.That(p.Encode(), Is.EqualTo("d=1234.5&m=0.1&f=2.5&dt=2024-01-02T00:00:00.0000000"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void Non_finite_numbers_are_refused(double value)
        => Assert.That(() => new QueryParams { { "x", value } }, Throws.ArgumentException);

    [Test]
    public void Enumerates_pairs()
    {
        QueryParams p = new Dictionary<string, object?> { ["a"] = 1, ["b"] = null };
        Assert.That(p, Is.EqualTo(new[] { new KeyValuePair<string, string>("a", "1"), new KeyValuePair<string, string>("b", "") }));
        QueryParams raw = "x=a+b&y=%26";
        Assert.That(raw.IsRaw, Is.True);
        Assert.That(raw.Count, Is.EqualTo(2));
        Assert.That(raw, Is.EqualTo(new[] { new KeyValuePair<string, string>("x", "a b"), new KeyValuePair<string, string>("y", "&") }));
        Assert.That(() => raw.Add("z", 1), Throws.InvalidOperationException);
    }

    [Test]
    public void A_url_snapshots_the_params()
    {
        var p = new QueryParams { { "a", 1 } };
        var url = Url.Parse("http://h/").WithQuery(p);
        p.Add("b", 2);
        Assert.That(url.ToString(), Is.EqualTo("http://h/?a=1"));
    }
}
