using System.Reflection;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

/// <summary>The embedded Public Suffix List as the cookie jar applies it (RFC 6265 §5.3 step 5).</summary>
public class PublicSuffixTests
{
    private static CookieJar Jar() => new(scheduler: new TestScheduler());

    private static string Sent(AbstractCookieJar jar, string url) =>
        string.Join("; ", jar.FilterCookies(new Uri(url)).Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>The rules of the embedded list, read straight from the resource (first token of each rule line).</summary>
    private static List<string> EmbeddedRules()
    {
        using var stream = typeof(CookieJar).Assembly.GetManifestResourceStream("RxHttp.Cookies.public_suffix_list.dat")!;
        using var reader = new StreamReader(stream);
        var rules = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length == 0 || line.StartsWith("//")) continue;
            rules.Add(line.Split(' ', '\t')[0]);
        }
        return rules;
    }

    [Test]
    public void The_full_list_is_embedded_with_both_sections_and_its_date()
    {
        var (normal, wildcard, exception) = PublicSuffixes.RuleCounts;
        Assert.That(normal, Is.GreaterThan(9000));
        Assert.That(wildcard, Is.GreaterThan(10));
        Assert.That(exception, Is.GreaterThan(5));
        Assert.That(PublicSuffixes.ListVersion, Does.StartWith("2023-02-09"));
        Assert.That(PublicSuffixes.IsLoaded, Is.True);
    }

    [Test]
    public void A_domain_cookie_for_any_listed_suffix_is_refused()
    {
        // Every plain rule of the list, ICANN and private, Unicode ones included: "Domain=co.uk"-style supercookies.
        var refusedWrongly = new List<string>();
        int checkedRules = 0;
        foreach (var rule in EmbeddedRules().Where(r => !r.StartsWith('!') && !r.StartsWith('*')))
        {
            var jar = Jar();
            jar.UpdateCookies(new[] { "a=1; Domain=" + rule }, new Uri("http://www.site." + rule + "/"));
            jar.UpdateCookies(new[] { "b=1; Domain=." + rule }, new Uri("http://site." + rule + "/"));
            if (jar.Count != 0) refusedWrongly.Add(rule);
            checkedRules++;
        }
        Assert.That(refusedWrongly, Is.Empty);
        Assert.That(checkedRules, Is.GreaterThan(9000));
    }

    [TestCase("http://www.example.co.uk/", "co.uk")]
    [TestCase("http://shop.example.com.au/", "com.au")]
    [TestCase("http://a.b.example.gov.uk/", "gov.uk")]
    [TestCase("http://x.example.ltd.uk/", "ltd.uk")]
    [TestCase("http://x.example.com.br/", "com.br")]
    [TestCase("http://x.example.k12.ca.us/", "k12.ca.us")]
    [TestCase("http://x.example.pvt.k12.ma.us/", "pvt.k12.ma.us")]
    [TestCase("http://me.github.io/", "github.io")]
    [TestCase("http://me.blogspot.com/", "blogspot.com")]
    [TestCase("http://a.example/", "example")]
    [TestCase("http://a.localhost/", "localhost")]
    public void Well_known_suffixes_are_refused(string url, string domain)
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=" + domain }, new Uri(url));
        Assert.That(jar.Count, Is.Zero);
    }

    [TestCase("http://www.example.co.uk/", "example.co.uk")]
    [TestCase("http://www.me.github.io/", "me.github.io")]
    [TestCase("http://x.example.k12.ca.us/", "example.k12.ca.us")]
    public void The_registrable_domain_below_a_suffix_is_accepted(string url, string domain)
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=" + domain }, new Uri(url));
        var c = jar.Single();
        Assert.That((c.Domain, c.HostOnly), Is.EqualTo((domain, false)));
    }

    [Test]
    public void Wildcard_rules_make_every_label_below_them_a_suffix()
    {
        // *.ck: "foo.ck" is a suffix, so only "example.foo.ck" may be a cookie domain.
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=foo.ck" }, new Uri("http://www.example.foo.ck/"));
        jar.UpdateCookies(new[] { "b=1; Domain=ck" }, new Uri("http://www.example.foo.ck/"));
        jar.UpdateCookies(new[] { "c=1; Domain=example.foo.ck" }, new Uri("http://www.example.foo.ck/"));
        Assert.That(jar.Select(x => (x.Name, x.Domain)), Is.EqualTo(new[] { ("c", "example.foo.ck") }));

        // *.kawasaki.jp
        jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=town.kawasaki.jp", "b=1; Domain=shop.town.kawasaki.jp" }, new Uri("http://www.shop.town.kawasaki.jp/"));
        Assert.That(jar.Select(x => x.Name), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void Exception_rules_make_a_name_under_a_wildcard_registrable()
    {
        // !www.ck overrides *.ck; !city.kawasaki.jp overrides *.kawasaki.jp.
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=www.ck" }, new Uri("http://shop.www.ck/"));
        jar.UpdateCookies(new[] { "b=1; Domain=city.kawasaki.jp" }, new Uri("http://www.city.kawasaki.jp/"));
        Assert.That(jar.Select(x => (x.Name, x.Domain, x.HostOnly)),
            Is.EquivalentTo(new[] { ("a", "www.ck", false), ("b", "city.kawasaki.jp", false) }));
        Assert.That(Sent(jar, "http://other.www.ck/"), Is.EqualTo("a=1"));
        Assert.That(Sent(jar, "http://other.ck/"), Is.Empty);
    }

    [TestCase("http://shop.example.公司.cn/", "公司.cn")]
    [TestCase("http://shop.example.公司.cn/", "xn--55qx5d.cn")]
    [TestCase("http://shop.example.公司.香港/", "公司.香港")]
    [TestCase("http://shop.example.公司/", "公司")]
    [TestCase("http://www.example.рф/", "рф")]
    public void International_suffixes_are_refused_in_either_spelling(string url, string domain)
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=" + domain }, new Uri(url));
        Assert.That(jar.Count, Is.Zero);
    }

    [Test]
    public void A_registrable_international_domain_is_accepted_and_stored_as_punycode()
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=example.公司.cn" }, new Uri("http://shop.example.公司.cn/"));
        var c = jar.Single();
        Assert.That((c.Domain, c.HostOnly), Is.EqualTo(("example.xn--55qx5d.cn", false)));
        Assert.That(Sent(jar, "http://www.example.公司.cn/"), Is.EqualTo("a=1"));
    }

    [Test]
    public void A_suffix_equal_to_the_host_gives_a_host_only_cookie()
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { "a=1; Domain=github.io" }, new Uri("http://github.io/"));
        var c = jar.Single();
        Assert.That((c.Domain, c.HostOnly), Is.EqualTo(("github.io", true)));
        Assert.That(Sent(jar, "http://me.github.io/"), Is.Empty);
    }

    [Test]
    public void Parse_reads_rules_comments_wildcards_exceptions_and_unicode()
    {
        var rules = PublicSuffixes.Parse(new StringReader("// comment\n\nco.uk  trailing words\n*.ck\n!www.ck\n公司.cn\n  uk\n"));
        Assert.That(rules.Normal, Is.EquivalentTo(new[] { "co.uk", "xn--55qx5d.cn", "uk" }));
        Assert.That(rules.Wildcard, Is.EquivalentTo(new[] { "ck" }));
        Assert.That(rules.Exception, Is.EquivalentTo(new[] { "www.ck" }));
    }
}
