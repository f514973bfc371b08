using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

/// <summary>A jar on a virtual clock and the shorthands the jar's tests share.</summary>
public abstract class CookieJarTestBase
{
    private protected TestScheduler _scheduler = null!;

    [SetUp]
    public void SetUp() => _scheduler = new TestScheduler();

    private protected CookieJar Jar(bool allowIpHosts = false, IEnumerable<Uri>? secure = null, bool quote = true) =>
        new(allowIpHosts, secure, quote, _scheduler);

    private protected static Uri U(string s) => new(s);

    private protected static string Sent(AbstractCookieJar jar, string url) =>
        string.Join("; ", jar.FilterCookies(U(url)).Select(kv => kv.Key + "=" + kv.Value));

    private protected static void Set(AbstractCookieJar jar, string url, params string[] headers) => jar.UpdateCookies(headers, U(url));
}
