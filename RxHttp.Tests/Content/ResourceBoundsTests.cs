using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Each bound on what a hostile server can make the client hold, checked by the peak resident memory (VmHWM) of a
/// child process that reads one hostile response (RxHttp.Soak's <c>bounds</c> driver), never by timing.
/// </summary>
[TestFixture]
public class ResourceBoundsTests
{
    private const long MiB = 1024 * 1024;

    private static async Task<ChildProcess.Result> Probe(string scenario, long maxBodySize = 10 * MiB)
    {
        var result = await ChildProcess.RunSoakAsync("bounds", scenario, maxBodySize.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output + result.Error);
        TestContext.Out.WriteLine(result.Output.Trim());
        return result;
    }

    [Test]
    public async Task A_1_GiB_gzip_bomb_read_under_MaxBodySize_10_MiB_fails_after_about_10_MiB()
    {
        var result = await Probe("bomb-read");
        Assert.That(result["outcome"], Is.EqualTo(nameof(ClientPayloadTooLargeError)), result.Error);
        Assert.That(result.Error, Does.Contain("MaxBodySize (10485760 bytes"));
        // About 1 KiB of wire per inflated MiB: stopping at 10 MiB inflated means a few tens of KiB read of the ~1 MiB sent.
        Assert.That(result.Long("wire"), Is.LessThan(256 * 1024), "reading stopped long before the end of the bomb");
        Assert.That(result.Long("peak_delta"), Is.LessThan(64 * MiB), "peak memory stays near the limit, not the 1 GiB");
    }

    [Test]
    public async Task The_same_bomb_streamed_inflates_whole_in_bounded_chunks()
    {
        var result = await Probe("bomb-stream");
        Assert.That(result["outcome"], Is.EqualTo("ok"), result.Error);
        Assert.That(result.Long("inflated"), Is.EqualTo(1024 * MiB), "streaming is not limited by MaxBodySize");
        Assert.That(result.Long("peak_delta"), Is.LessThan(32 * MiB));
    }

    [TestCase("header-flood", "Too many headers", TestName = "A 200,000-line header flood ends in ClientResponseError at no memory cost")]
    [TestCase("long-status", "Status line is too long", TestName = "A 1 MiB status line ends in ClientResponseError at no memory cost")]
    [TestCase("long-header", "Header line is too long", TestName = "A 1 MiB header line ends in ClientResponseError at no memory cost")]
    public async Task Head_limits_hold(string scenario, string message)
    {
        var result = await Probe(scenario);
        Assert.That(result["outcome"], Is.EqualTo(nameof(ClientResponseError)), result.Error);
        Assert.That(result.Error, Does.Contain(message));
        Assert.That(result.Long("peak_delta"), Is.LessThan(16 * MiB));
    }
}
