using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Soak;

/// <summary>
/// The soak's invariants on 1,000 requests (RxHttp.Soak's <c>soak</c> driver in a child process, so the descriptors and
/// memory counted are its own): every request against a slow or broken server, cancelled at a random point by dispose,
/// Switch(), Timeout or TakeUntil, leaves no socket, no busy pool slot, no unobserved task exception, and the session
/// still works. Nothing is timed.
/// </summary>
[TestFixture]
public class SoakTests
{
    [Test]
    public async Task A_thousand_randomly_cancelled_requests_leak_nothing()
    {
        var result = await ChildProcess.RunSoakAsync("soak", "1000", "64", "7");
        TestContext.Out.WriteLine(result.Output);
        Assert.Multiple(() =>
        {
            Assert.That(result.Long("fds_live"), Is.LessThanOrEqualTo(result.Long("fds_expected")), "no socket outside the pool before the session closed");
            Assert.That(result.Long("fds_after"), Is.LessThanOrEqualTo(result.Long("fds_baseline")), "socket descriptors back to the baseline");
            Assert.That(result.Long("in_use"), Is.Zero, "no connection left leased");
            Assert.That(result.Long("opening"), Is.Zero);
            Assert.That(result.Long("waiting"), Is.Zero);
            Assert.That(result.Long("unobserved"), Is.Zero, "unobserved task exceptions");
            Assert.That(result["normal"], Is.EqualTo("ok"), "a normal request afterwards");
            Assert.That(result.Long("mem_end") - result.Long("mem_mid"), Is.LessThan(16 * 1024 * 1024), "managed memory flat");
            Assert.That(result["result"], Is.EqualTo("pass"));
            Assert.That(result.ExitCode, Is.Zero, result.Error);
        });
        // Every way of cancelling was exercised, and some requests were cut short.
        foreach (var mode in new[] { "dispose/cut", "before-connect/cut", "switch/cut", "take-until/cut", "timeout/TimeoutException", "finish/completed" })
            Assert.That(result.Output, Does.Contain(mode));
    }
}
