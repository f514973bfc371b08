using RxHttp.Http1;
using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Http1;

[TestFixture]
public class HeaderStringCacheTests
{
    [Test]
    public void Same_bytes_at_the_same_position_reuse_last_responses_string()
    {
        var cache = new HeaderStringCache();
        var first = cache.Value(2, "Tue, 14 Oct 2025 09:12:44 GMT"u8);
        var second = cache.Value(2, "Tue, 14 Oct 2025 09:12:44 GMT"u8);
        Assert.That(second, Is.SameAs(first));
    }

    [Test]
    public void Changed_bytes_of_the_same_length_give_a_new_string()
    {
        var cache = new HeaderStringCache();
        cache.Value(2, "Tue, 14 Oct 2025 09:12:44 GMT"u8);
        Assert.That(cache.Value(2, "Tue, 14 Oct 2025 09:12:45 GMT"u8), Is.EqualTo("Tue, 14 Oct 2025 09:12:45 GMT"));
    }

    [Test]
    public void Non_ascii_values_are_decoded_every_time_so_same_length_values_never_share_a_string()
    {
        var cache = new HeaderStringCache();
        Assert.That(cache.Value(0, Encoding.UTF8.GetBytes("café")), Is.EqualTo("café"));
        Assert.That(cache.Value(0, Encoding.UTF8.GetBytes("cafè")), Is.EqualTo("cafè"));
        // Not valid UTF-8: decoded as Latin-1, as aiohttp does.
        Assert.That(cache.Value(0, new byte[] { 0xE9, 0x41 }), Is.EqualTo("éA"));
        Assert.That(cache.Value(0, new byte[] { 0xE8, 0x41 }), Is.EqualTo("èA"));
    }

    [Test]
    public void Names_keep_their_canonical_spelling_and_positions_beyond_the_cache_still_decode()
    {
        var cache = new HeaderStringCache();
        Assert.That(cache.Name(0, "content-length"u8), Is.EqualTo("Content-Length"));
        Assert.That(cache.Name(0, "X-Request-Id"u8), Is.EqualTo("X-Request-Id"));
        Assert.That(cache.Name(500, "X-Far-Away"u8), Is.EqualTo("X-Far-Away"));
        Assert.That(cache.Value(500, "v"u8), Is.EqualTo("v"));
    }
}
