using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

/// <summary>What the jar stores from Set-Cookie and sends back: domains, prefixes, IP hosts, paths, Secure, attributes.</summary>
public class CookieJarTests : CookieJarTestBase
{
    // ---- the empty jar every request asks about ----

    /// <summary>A clock that counts its reads.</summary>
    private sealed class CountingClock : System.Reactive.Concurrency.IScheduler
    {
        public int Reads;
        public DateTimeOffset Now { get { Reads++; return DateTimeOffset.UtcNow; } }
        public IDisposable Schedule<TState>(TState state, Func<System.Reactive.Concurrency.IScheduler, TState, IDisposable> action) => throw new NotSupportedException();
        public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<System.Reactive.Concurrency.IScheduler, TState, IDisposable> action) => throw new NotSupportedException();
        public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<System.Reactive.Concurrency.IScheduler, TState, IDisposable> action) => throw new NotSupportedException();
    }

    [Test]
    public void A_jar_that_never_held_a_cookie_counts_none_without_expiring_anything_and_one_that_did_counts_as_before()
    {
        // Every request asks Count: an API client's jar, which never held a cookie, answers without its lock or clock.
        var clock = new CountingClock();
        var jar = new CookieJar(scheduler: clock);
        for (var i = 0; i < 10; i++) Assert.That(jar.Count, Is.Zero);
        Assert.That(clock.Reads, Is.Zero, "an empty jar expired its cookies on every request");
        jar.UpdateCookies(new[] { "a=1; Max-Age=60" }, U("http://example.com/"));
        Assert.That(jar.Count, Is.EqualTo(1));
        jar.UpdateCookies(new[] { "a=; Max-Age=0" }, U("http://example.com/"));
        Assert.That(jar.Count, Is.Zero);
        Assert.That(clock.Reads, Is.GreaterThan(0), "a jar that held cookies checks their expiry");
    }

    // ---- host-only and domain cookies ----

    [Test]
    public void Without_domain_attribute_the_cookie_is_host_only()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1");
        var c = jar.Single();
        Assert.Multiple(() =>
        {
            Assert.That(c.HostOnly, Is.True);
            Assert.That(c.Domain, Is.EqualTo("example.com"));
            Assert.That(Sent(jar, "http://example.com/x"), Is.EqualTo("a=1"));
            Assert.That(Sent(jar, "http://EXAMPLE.com/"), Is.EqualTo("a=1"));
            Assert.That(Sent(jar, "http://sub.example.com/"), Is.Empty);
            Assert.That(Sent(jar, "http://other.com/"), Is.Empty);
        });
    }

    [TestCase("a=1; Domain=example.com")]
    [TestCase("a=1; Domain=.example.com")]
    [TestCase("a=1; domain=EXAMPLE.COM")]
    public void Domain_cookie_goes_to_the_domain_and_its_subdomains(string header)
    {
        var jar = Jar();
        Set(jar, "http://www.example.com/", header);
        var c = jar.Single();
        Assert.Multiple(() =>
        {
            Assert.That(c.HostOnly, Is.False);
            Assert.That(c.Domain, Is.EqualTo("example.com"));
            Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("a=1"));
            Assert.That(Sent(jar, "http://www.example.com/"), Is.EqualTo("a=1"));
            Assert.That(Sent(jar, "http://a.b.example.com/"), Is.EqualTo("a=1"));
            Assert.That(Sent(jar, "http://notexample.com/"), Is.Empty);
            Assert.That(Sent(jar, "http://example.org/"), Is.Empty);
        });
    }

    [TestCase("http://example.com/", "a=1; Domain=other.com")]
    [TestCase("http://example.com/", "a=1; Domain=sub.example.com")]
    [TestCase("http://example.com/", "a=1; Domain=xample.com")]
    [TestCase("http://example.com/", "a=1; Domain=com")]
    [TestCase("http://example.com/", "a=1; Domain=.com")]
    [TestCase("http://www.example.co.uk/", "a=1; Domain=co.uk")]
    [TestCase("http://shop.example.com.au/", "a=1; Domain=com.au")]
    [TestCase("http://example.com/", "a=1; Domain=exa..mple.com")]
    public void Domain_that_does_not_domain_match_or_is_a_public_suffix_is_rejected(string url, string header)
    {
        var jar = Jar();
        Set(jar, url, header);
        Assert.That(jar.Count, Is.EqualTo(0));
    }

    [Test]
    public void Registrable_domain_under_a_multi_label_suffix_is_accepted()
    {
        var jar = Jar();
        Set(jar, "http://www.example.co.uk/", "a=1; Domain=example.co.uk");
        Assert.That(Sent(jar, "http://shop.example.co.uk/"), Is.EqualTo("a=1"));
        Assert.That(Sent(jar, "http://other.co.uk/"), Is.Empty);
    }

    [TestCase("http://localhost/", "a=1; Domain=localhost", "localhost")]
    [TestCase("http://co.uk/", "a=1; Domain=co.uk", "co.uk")]
    public void Public_suffix_equal_to_the_host_becomes_host_only(string url, string header, string host)
    {
        var jar = Jar();
        Set(jar, url, header);
        var c = jar.Single();
        Assert.That((c.Domain, c.HostOnly), Is.EqualTo((host, true)));
        Assert.That(Sent(jar, "http://sub." + host + "/"), Is.Empty);
    }

    [TestCase("http://example.com/", "a=1; Domain=example.com.")]
    [TestCase("http://www.example.com/", "a=1; Domain=example.com.")]
    [TestCase("http://www.example.com/", "a=1; Domain=.example.com.")]
    [TestCase("http://www.example.co.uk/", "a=1; Domain=co.uk.")]
    public void Trailing_dot_domain_does_not_domain_match_so_the_cookie_is_ignored(string url, string header)
    {
        // RFC 6265 §5.3 step 6 (what browsers do); aiohttp stores such a cookie host-only instead.
        var jar = Jar();
        Set(jar, url, header, "b=2");
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void Names_with_quotes_or_inner_spaces_are_stored_and_sent_back_as_received()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "\"q\"=1", " a b =2", "c\"d=3; Path=/");
        Assert.That(jar.Select(c => c.Name), Is.EquivalentTo(new[] { "\"q\"", "a b", "c\"d" }));
        Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("\"q\"=1; a b=2; c\"d=3"));
    }

    [Test]
    public void Names_with_control_characters_are_still_refused()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a\u0001b=1", "a\u007Fb=2", "ok=3");
        Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("ok=3"));
    }

    [Test]
    public void International_domains_are_stored_as_punycode()
    {
        var jar = Jar();
        Set(jar, "http://www.bücher.example/", "a=1; Domain=bücher.example", "b=2");
        Assert.That(jar.Select(c => c.Domain), Is.EquivalentTo(new[] { "xn--bcher-kva.example", "www.xn--bcher-kva.example" }));
        Assert.That(Sent(jar, "http://www.bücher.example/"), Is.EqualTo("a=1; b=2"));
        Assert.That(Sent(jar, "http://xn--bcher-kva.example/"), Is.EqualTo("a=1"));
    }

    [Test]
    public void Host_only_and_domain_cookie_with_same_name_and_path_replace_each_other()
    {
        var jar = Jar();
        Set(jar, "http://example.com/", "a=1");
        Set(jar, "http://example.com/", "a=2; Domain=example.com");
        var c = jar.Single();
        Assert.That((c.Value, c.HostOnly), Is.EqualTo(("2", false)));
    }

    // ---- cookie name prefixes (RFC 6265bis §4.1.3, §5.7) ----

    [TestCase("__Secure-a=1", false)]
    [TestCase("__Secure-a=1; Secure", true)]
    [TestCase("__secure-a=1", false)]
    [TestCase("__Secure-a=1; Secure; Domain=example.com", true)]
    [TestCase("__Host-a=1; Secure; Path=/", true)]
    [TestCase("__HOST-a=1; Secure; Path=/", true)]
    [TestCase("__Host-a=1; Path=/", false)]
    [TestCase("__Host-a=1; Secure", false)]
    [TestCase("__Host-a=1; Secure; Path=/x", false)]
    [TestCase("__Host-a=1; Secure; Path=/; Domain=www.example.com", false)]
    [TestCase("__Host-a=1; Secure; Path=/; Domain=example.com", false)]
    [TestCase("__Hostile=1", true)]
    public void Prefixed_names_are_kept_only_with_the_attributes_their_prefix_promises(string header, bool kept)
    {
        // A server reading __Host-sid trusts it was set by its own host, securely, for the whole host: a sibling
        // subdomain's Domain=example.com cookie of that name must not reach it (cookie tossing).
        var jar = Jar();
        Set(jar, "https://www.example.com/", header);
        Assert.That(jar.Count, Is.EqualTo(kept ? 1 : 0));
    }

    // ---- IP-address hosts ----

    [TestCase("http://127.0.0.1/")]
    [TestCase("http://[::1]:8080/")]
    public void Cookies_from_ip_hosts_are_not_stored_by_default(string url)
    {
        var jar = Jar();
        Assert.That(jar.Unsafe, Is.False);
        Set(jar, url, "a=1");
        jar.UpdateCookies(new[] { KeyValuePair.Create("b", "2") }, U(url));
        Assert.That(jar.Count, Is.EqualTo(0));
    }

    [TestCase("http://127.0.0.1/", "http://127.0.0.2/")]
    [TestCase("http://[::1]:8080/", "http://[::2]:8080/")]
    public void Unsafe_jar_accepts_ip_hosts_and_sends_only_to_the_same_address(string url, string other)
    {
        var jar = Jar(allowIpHosts: true);
        Assert.That(jar.Unsafe, Is.True);
        Set(jar, url, "a=1");
        Assert.That(Sent(jar, url), Is.EqualTo("a=1"));
        Assert.That(Sent(jar, other), Is.Empty);
    }

    [Test]
    public void Unsafe_jar_accepts_a_domain_attribute_equal_to_the_ip_only()
    {
        var jar = Jar(allowIpHosts: true);
        Set(jar, "http://127.0.0.1/", "a=1; Domain=127.0.0.1", "b=2; Domain=0.0.1", "c=3; Domain=1");
        Assert.That(jar.Select(c => c.Name), Is.EqualTo(new[] { "a" }));
        Assert.That(Sent(jar, "http://127.0.0.1/"), Is.EqualTo("a=1"));
    }

    // ---- paths ----

    [TestCase("http://h.com/docs", true)]
    [TestCase("http://h.com/docs/", true)]
    [TestCase("http://h.com/docs/web/page", true)]
    [TestCase("http://h.com/doc", false)]
    [TestCase("http://h.com/docsets", false)]
    [TestCase("http://h.com/", false)]
    public void Path_attribute_limits_where_the_cookie_goes(string url, bool sent)
    {
        var jar = Jar();
        Set(jar, "http://h.com/", "a=1; Path=/docs");
        Assert.That(Sent(jar, url), Is.EqualTo(sent ? "a=1" : ""));
    }

    [TestCase("http://h.com/app/login", "a=1", "/app")]
    [TestCase("http://h.com/app/login", "a=1; Path=relative", "/app")]
    [TestCase("http://h.com/login", "a=1", "/")]
    [TestCase("http://h.com/app/", "a=1; Path=/x", "/x")]
    public void Missing_or_relative_path_uses_the_default_path(string url, string header, string path)
    {
        var jar = Jar();
        Set(jar, url, header);
        Assert.That(jar.Single().Path, Is.EqualTo(path));
    }

    // ---- secure ----

    [TestCase("http://example.com/", false)]
    [TestCase("ws://example.com/", false)]
    [TestCase("https://example.com/", true)]
    [TestCase("wss://example.com/", true)]
    public void Secure_cookies_go_only_over_secure_schemes(string url, bool sent)
    {
        var jar = Jar();
        Set(jar, "https://example.com/", "s=1; Secure", "p=2");
        Assert.That(jar.Single(c => c.Name == "s").Secure, Is.True);
        Assert.That(Sent(jar, url), Is.EqualTo(sent ? "s=1; p=2" : "p=2"));
    }

    [TestCase("http://127.0.0.1:8080/", true)]
    [TestCase("http://127.0.0.1:8081/", false)]
    [TestCase("ws://127.0.0.1:8080/", false)]
    [TestCase("http://localhost:8080/x", true)]
    [TestCase("http://localhost/", false)]
    public void Treat_as_secure_origin(string url, bool sent)
    {
        var jar = Jar(allowIpHosts: true, secure: new[] { U("http://127.0.0.1:8080"), U("http://LOCALHOST:8080/ignored/path") });
        var host = new Uri(url).Host;
        jar.UpdateCookies(new[] { "s=1; Secure; Path=/" }, new Uri("http://" + host + "/"));
        Assert.That(Sent(jar, url), Is.EqualTo(sent ? "s=1" : ""));
    }

    // ---- attributes ----

    [Test]
    public void Flags_and_same_site_are_kept_and_exposed()
    {
        var jar = Jar();
        Set(jar, "https://example.com/", "a=1; SECURE; httponly; SameSite=Strict; Unknown=1");
        var c = jar.Single();
        Assert.That((c.Secure, c.HttpOnly, c.SameSite, c.Persistent, c.Shared), Is.EqualTo((true, true, "Strict", false, false)));
        Assert.That(c.ToString(), Is.EqualTo("a=1"));
    }

    [Test]
    public void Quoted_values_are_kept_and_sent_as_received()
    {
        foreach (var quote in new[] { true, false })
        {
            var jar = Jar(quote: quote);
            Set(jar, "http://example.com/", "a=\"second\"", "b=\"with space\"");
            Assert.That(Sent(jar, "http://example.com/"), Is.EqualTo("a=\"second\"; b=\"with space\""));
        }
    }

    [Test]
    public void Malformed_set_cookie_values_are_ignored_without_throwing()
    {
        var jar = Jar();
        Assert.DoesNotThrow(() => jar.UpdateCookies(new[]
        {
            "", "noequals", "=v", "a\u0001=1", "x=1\r\nInjected: y", null!, "; ; ;", "ok=1; Expires=not a date; Max-Age=abc; Domain=",
        }, U("http://example.com/")));
        var c = jar.Single();
        Assert.That((c.Name, c.Expires, c.MaxAge, c.HostOnly), Is.EqualTo(("ok", (DateTimeOffset?)null, (long?)null, true)));
    }

    [Test]
    public void Relative_urls_are_rejected()
    {
        var jar = Jar();
        Assert.Throws<ArgumentException>(() => jar.UpdateCookies(new[] { "a=1" }, new Uri("/x", UriKind.Relative)));
        Assert.Throws<ArgumentException>(() => jar.FilterCookies(new Uri("/x", UriKind.Relative)));
    }
}
