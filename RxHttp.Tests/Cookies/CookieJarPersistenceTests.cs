using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

public class CookieJarPersistenceTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "rxhttp-cookies-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static object Shape(Cookie c) =>
        (c.Name, c.Value, c.Domain, c.Path, c.Expires, c.MaxAge, c.Secure, c.HttpOnly, c.SameSite, c.HostOnly, c.CreationTime);

    [Test]
    public void Names_with_quotes_and_spaces_survive_save_and_load()
    {
        var jar = new CookieJar(scheduler: new TestScheduler());
        jar.UpdateCookies(new[] { "\"q\"=1", "a b=2" }, new Uri("http://example.com/"));
        var file = Path.Combine(_dir, "odd.json");
        jar.Save(file);
        var loaded = new CookieJar(scheduler: new TestScheduler());
        loaded.Load(file);
        Assert.That(loaded.FilterCookies(new Uri("http://example.com/")).Select(kv => kv.Key + "=" + kv.Value), Is.EquivalentTo(new[] { "\"q\"=1", "a b=2" }));
    }

    [Test]
    public void Save_and_load_round_trip_every_attribute_and_the_send_order()
    {
        var scheduler = new TestScheduler();
        scheduler.AdvanceTo(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks);
        var jar = new CookieJar(scheduler: scheduler);
        jar.UpdateCookies(new[]
        {
            "host=1",
            "dom=2; Domain=example.com; Path=/a; Secure; HttpOnly; SameSite=Lax; Max-Age=60",
            "exp=\"q\"; Expires=Wed, 01 Jan 2031 00:00:00 GMT",
        }, new Uri("https://www.example.com/a/b"));
        scheduler.AdvanceBy(1);
        jar.UpdateCookies(new Dictionary<string, string> { ["shared"] = "x y" });
        var file = Path.Combine(_dir, "jar.json");
        jar.Save(file);

        var loaded = new CookieJar(scheduler: scheduler);
        loaded.UpdateCookies(new Dictionary<string, string> { ["replaced"] = "1" });
        loaded.Load(file);

        Assert.That(loaded.Select(Shape), Is.EqualTo(jar.Select(Shape)));
        Assert.That(loaded.Count, Is.EqualTo(4));
        foreach (var url in new[] { "https://www.example.com/a/b", "http://www.example.com/a", "https://example.com/a", "http://other.org/" })
            Assert.That(loaded.FilterCookies(new Uri(url)), Is.EqualTo(jar.FilterCookies(new Uri(url))), url);

        scheduler.AdvanceBy(TimeSpan.FromSeconds(60).Ticks);
        Assert.That(loaded.Any(c => c.Name == "dom"), Is.False, "loaded expiry still runs on the scheduler");
    }

    [Test]
    public void Load_drops_cookies_that_expired_since_the_save()
    {
        var scheduler = new TestScheduler();
        var jar = new CookieJar(scheduler: scheduler);
        jar.UpdateCookies(new[] { "a=1; Max-Age=10", "b=2" }, new Uri("http://example.com/"));
        var file = Path.Combine(_dir, "jar.json");
        jar.Save(file);
        scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);
        var loaded = new CookieJar(scheduler: scheduler);
        loaded.Load(file);
        Assert.That(loaded.Select(c => c.Name), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void Saved_file_is_private_to_the_user_even_when_it_replaces_a_wider_one()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("File modes are asserted on Linux.");
            return;
        }
        var file = Path.Combine(_dir, "jar.json");
        File.WriteAllText(file, "old");
        File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100); // 644
        var jar = new CookieJar();
        jar.UpdateCookies(new[] { "a=1" }, new Uri("http://example.com/"));
        jar.Save(file);
        Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary file is left behind");

        var fresh = Path.Combine(_dir, "fresh.json");
        jar.Save(fresh);
        Assert.That(File.GetUnixFileMode(fresh), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [TestCase("not json")]
    [TestCase("{}")]
    [TestCase("{\"version\": 99, \"cookies\": []}")]
    [TestCase("{\"version\": 1, \"cookies\": [{\"name\": \"a\"}]}")]
    [TestCase("{\"version\": 1, \"cookies\": [null]}")]
    [TestCase("null")]
    public void Load_rejects_files_that_are_not_saved_jars(string content)
    {
        var file = Path.Combine(_dir, "bad.json");
        File.WriteAllText(file, content);
        var jar = new CookieJar();
        jar.UpdateCookies(new Dictionary<string, string> { ["keep"] = "1" });
        Assert.Throws<InvalidDataException>(() => jar.Load(file));
        Assert.That(jar.Count, Is.EqualTo(1), "a failed load leaves the jar as it was");
    }
}
