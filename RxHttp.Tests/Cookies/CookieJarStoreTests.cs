using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

/// <summary>How long the jar keeps a cookie and in what order, preloaded cookies, clearing, and the dummy jar.</summary>
public class CookieJarStoreTests : CookieJarTestBase
{
    // ---- expiry ----

    [Test]
    public void Max_age_expires_on_the_scheduler_clock_at_the_exact_boundary()
    {
        var jar = Jar();
        _scheduler.AdvanceTo(TimeSpan.FromSeconds(5).Ticks);
        Set(jar, "http://example.com/", "a=1; Max-Age=10");
        var c = jar.Single();
        Assert.That(c.MaxAge, Is.EqualTo(10));
        Assert.That(c.Expires, Is.EqualTo(_scheduler.Now + TimeSpan.FromSeconds(10)));

        _scheduler.AdvanceTo(TimeSpan.FromSeconds(15).Ticks - 1);
        Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("a=1"));
        Assert.That(jar.Count, Is.EqualTo(1));

        _scheduler.AdvanceTo(TimeSpan.FromSeconds(15).Ticks);
        Assert.That(Sent(jar, "http://example.com/"), Is.Empty);
        Assert.That(jar.Count, Is.EqualTo(0));
        Assert.That(jar, Is.Empty);
    }

    [Test]
    public void A_jar_made_without_a_scheduler_expires_on_the_clock_of_the_session_it_is_given_to()
    {
        // README's own advice for IP hosts, in a user's virtual-time test: the jar must follow the session's clock.
        using var http = new RxHttp.Testing.FakeHttp();
        http.When("GET", "http://127.0.0.1/login").Respond(RxHttp.Testing.FakeResponse.Status(200).SetCookie("sid=1; Max-Age=60"));
        http.When("GET", "http://127.0.0.1/me").Respond(200);
        var jar = new CookieJar(allowIpHosts: true);
        using var session = new ClientSession(new ClientSessionOptions { Connector = http.Connector, ConnectorOwner = false, Scheduler = _scheduler, CookieJar = jar });
        _scheduler.AdvanceTo(TimeSpan.FromSeconds(5).Ticks);
        session.Get("http://127.0.0.1/login").Subscribe(r => r.Release());
        Assert.That(jar.Single().Expires, Is.EqualTo(_scheduler.Now + TimeSpan.FromSeconds(60)), "Max-Age counted from the session's clock");

        _scheduler.AdvanceTo(TimeSpan.FromSeconds(65).Ticks - 1);
        session.Get("http://127.0.0.1/me").Subscribe(r => r.Release());
        _scheduler.AdvanceTo(TimeSpan.FromSeconds(65).Ticks);
        session.Get("http://127.0.0.1/me").Subscribe(r => r.Release());
        Assert.That(http.Calls.Skip(1).Select(c => c.Header("Cookie")), Is.EqualTo(new[] { "sid=1", null }));
        Assert.That(jar.Count, Is.Zero);
    }

    [Test]
    public void A_jar_given_its_own_scheduler_keeps_it()
    {
        var own = new TestScheduler();
        var jar = new CookieJar(scheduler: own);
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = _scheduler, CookieJar = jar });
        own.AdvanceTo(TimeSpan.FromSeconds(100).Ticks);
        Set(jar, "http://example.com/", "a=1; Max-Age=10");
        Assert.That(jar.Single().Expires, Is.EqualTo(own.Now + TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void Expires_attribute_is_compared_with_the_scheduler_clock()
    {
        var jar = Jar();
        _scheduler.AdvanceTo(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks);
        Set(jar, "http://example.com/", "a=1; Expires=Tue, 01 Jan 2030 00:00:10 GMT", "gone=1; Expires=Mon, 31 Dec 2029 23:59:59 GMT");
        Assert.That(jar.Single().Expires, Is.EqualTo(new DateTimeOffset(2030, 1, 1, 0, 0, 10, TimeSpan.Zero)));
        _scheduler.AdvanceBy(TimeSpan.FromSeconds(9).Ticks);
        Assert.That(jar.Count, Is.EqualTo(1));
        _scheduler.AdvanceBy(TimeSpan.FromSeconds(1).Ticks);
        Assert.That(jar.Count, Is.EqualTo(0));
    }

    [Test]
    public void Max_age_wins_over_expires_in_either_order()
    {
        var jar = Jar();
        _scheduler.AdvanceTo(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks);
        Set(jar, "http://example.com/",
            "keep=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=100",
            "drop=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "keep" }));
        Assert.That(jar.Single().Expires, Is.EqualTo(_scheduler.Now.AddSeconds(100)));
    }

    [TestCase("a=x; Max-Age=0")]
    [TestCase("a=x; Max-Age=-1")]
    [TestCase("a=x; Max-Age=-99999999999999999999")]
    [TestCase("a=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT")]
    public void Expired_cookie_deletes_the_stored_one(string deletion)
    {
        var jar = Jar();
        _scheduler.AdvanceTo(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks);
        Set(jar, "http://example.com/", "a=1", "b=2");
        Set(jar, "http://example.com/", deletion);
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void Huge_max_age_does_not_overflow()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1; Max-Age=99999999999999999999");
        Assert.That(jar.Single().Expires, Is.EqualTo(DateTimeOffset.MaxValue));
    }

    // ---- replacement and order ----

    [Test]
    public void Same_domain_path_and_name_replaces_the_old_cookie()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1; Path=/");
        Set(jar, "http://example.com/", "a=2; Path=/");
        Set(jar, "http://example.com/", "a=3; Path=/other");
        Assert.That(jar.Count, Is.EqualTo(2));
        Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("a=2"));
        Assert.That(Sent(jar, "http://example.com/other"), Is.EqualTo("a=3; a=2"));
    }

    [Test]
    public void Longer_paths_first_then_earlier_creation_and_replacement_keeps_creation_time()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "first=1; Path=/");
        _scheduler.AdvanceBy(10);
        Set(jar, "http://example.com/", "deep=1; Path=/a/b");
        _scheduler.AdvanceBy(10);
        Set(jar, "http://example.com/", "second=1; Path=/", "mid=1; Path=/a");
        var created = jar.Single(c => c.Name == "first").CreationTime;
        _scheduler.AdvanceBy(10);
        Set(jar, "http://example.com/", "first=2; Path=/");

        Assert.That(jar.Single(c => c.Name == "first").CreationTime, Is.EqualTo(created));
        Assert.That(Sent(jar, "http://example.com/a/b/c"), Is.EqualTo("deep=1; mid=1; first=2; second=1"));
    }

    [Test]
    public void Cookies_created_at_the_same_instant_keep_arrival_order()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "z=1", "y=1", "x=1");
        Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("z=1; y=1; x=1"));
    }

    // ---- preloaded cookies ----

    [TestCase("http://example.com/")]
    [TestCase("https://sub.other.org/deep/path")]
    [TestCase("http://127.0.0.1:8080/")]
    public void Shared_cookies_are_sent_everywhere(string url)
    {
        var jar = Jar();
        jar.UpdateCookies(new Dictionary<string, string> { ["s"] = "1" });
        var c = jar.Single();
        Assert.That((c.Shared, c.Domain, c.Path, c.HostOnly), Is.EqualTo((true, "", "/", false)));
        Assert.That(Sent(jar, url), Is.EqualTo("s=1"));
    }

    [Test]
    public void Preloaded_cookies_with_a_url_are_host_only_for_it()
    {
        var jar = Jar();
        jar.UpdateCookies(new[] { KeyValuePair.Create("a", "1") }, U("http://example.com/app/page"));
        var c = jar.Single();
        Assert.That((c.Domain, c.Path, c.HostOnly), Is.EqualTo(("example.com", "/app", true)));
        Assert.That(Sent(jar, "http://example.com/app/x"), Is.EqualTo("a=1"));
        Assert.That(Sent(jar, "http://sub.example.com/app/x"), Is.Empty);
    }

    [Test]
    public void Preloaded_values_are_quoted_like_simple_cookie_unless_quoting_is_off()
    {
        var quoted = Jar();
        var raw = Jar(quote: false);
        Assert.That((quoted.QuoteCookie, raw.QuoteCookie), Is.EqualTo((true, false)));
        var pairs = new Dictionary<string, string> { ["name"] = "val=foobar", ["plain"] = "abc" };
        quoted.UpdateCookies(pairs);
        raw.UpdateCookies(pairs);
        Assert.That(Sent(quoted, "http://x.com/"), Is.EqualTo("name=\"val=foobar\"; plain=abc"));
        Assert.That(Sent(raw, "http://x.com/"), Is.EqualTo("name=val=foobar; plain=abc"));
    }

    [Test]
    public void Preloaded_pairs_with_bad_names_or_unsafe_raw_values_are_skipped()
    {
        var raw = Jar(quote: false);
        raw.UpdateCookies(new Dictionary<string, string> { ["bad name"] = "1", [""] = "2", ["v"] = "a;b", ["ok"] = "3" });
        Assert.That(Sent(raw, "http://x.com/"), Is.EqualTo("ok=3"));
    }

    // ---- clearing and enumeration ----

    [Test]
    public void Clear_removes_all_or_what_the_predicate_selects()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1", "b=2", "c=3");
        jar.Clear(c => c.Name == "b");
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "a", "c" }));
        jar.Clear();
        Assert.That(jar.Count, Is.EqualTo(0));
        Assert.That(jar.FilterCookies(U("http://example.com/")), Is.Empty);
    }

    [TestCase("example.com")]
    [TestCase(".EXAMPLE.com")]
    public void Clear_domain_removes_the_domain_and_its_subdomains(string domain)
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1");
        Set(jar, "http://www.example.com/", "b=2", "c=3; Domain=example.com");
        Set(jar, "http://notexample.com/", "d=4");
        jar.UpdateCookies(new Dictionary<string, string> { ["s"] = "5" });
        jar.ClearDomain(domain);
        Assert.That(jar.Select(c => c.Name), Is.EquivalentTo(new[] { "d", "s" }));
    }

    [TestCase("bücher.de")]
    [TestCase(".BÜCHER.de")]
    [TestCase("xn--bcher-kva.de")]
    public void Clear_domain_takes_an_international_name_as_the_jar_stores_it(string domain)
    {
        // The jar keeps domains in punycode (as it receives hosts); a Unicode name cleared nothing.
        var jar = Jar();
        Set(jar, "http://www.bücher.de/", "a=1", "b=2; Domain=bücher.de");
        Set(jar, "http://example.com/", "c=3");
        jar.ClearDomain(domain);
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "c" }));
    }

    [Test]
    public void Clear_domain_does_not_treat_ip_addresses_as_having_parents()
    {
        var jar = Jar(allowIpHosts: true);
        Set(jar, "http://127.0.0.1/", "a=1");
        jar.ClearDomain("0.0.1");
        Assert.That(jar.Count, Is.EqualTo(1));
        jar.ClearDomain("127.0.0.1");
        Assert.That(jar.Count, Is.EqualTo(0));
    }

    [Test]
    public void Enumeration_is_a_snapshot_in_storage_order()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1", "b=2");
        foreach (var c in jar) Set(jar, "http://example.com/", c.Name + "x=1");
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "a", "b", "ax", "bx" }));
    }

    [Test]
    public void Default_scheduler_is_used_when_none_is_given()
    {
        var jar = new CookieJar();
        jar.UpdateCookies(new[] { "a=1; Max-Age=3600" }, U("http://example.com/"));
        var c = jar.Single();
        Assert.That(c.Expires!.Value - DateTimeOffset.UtcNow, Is.InRange(TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61)));
    }

    [Test]
    public void Concurrent_updates_and_filters_do_not_corrupt_the_jar()
    {
        var jar = new CookieJar();
        Parallel.For(0, 2000, i =>
        {
            jar.UpdateCookies(new[] { $"c{i % 50}={i}; Max-Age={(i % 7 == 0 ? 0 : 60)}" }, U($"http://h{i % 5}.example.com/"));
            _ = jar.FilterCookies(U($"http://h{i % 5}.example.com/"));
            _ = jar.Count;
        });
        Assert.That(jar.Count, Is.LessThanOrEqualTo(250));
        Assert.That(jar.GroupBy(c => (c.Domain, c.Path, c.Name)).All(g => g.Count() == 1), Is.True);
    }

    // ---- dummy jar ----

    [Test]
    public void Dummy_jar_stores_and_sends_nothing()
    {
        AbstractCookieJar jar = new DummyCookieJar();
        jar.UpdateCookies(new[] { "a=1" }, U("http://example.com/"));
        jar.UpdateCookies(new Dictionary<string, string> { ["s"] = "1" });
        jar.Clear();
        jar.ClearDomain("example.com");
        Assert.That(jar.Count, Is.EqualTo(0));
        Assert.That(jar, Is.Empty);
        Assert.That(jar.FilterCookies(U("http://example.com/")), Is.Empty);
        Assert.That(jar.QuoteCookie, Is.True);
    }
}
