using NUnit.Framework;
using RxHttp.Transport;

namespace RxHttp.Tests.Transport;

/// <summary>
/// Whether a lone request polls for its response: when the server has been answering within the window, and now and
/// then otherwise, since an answer read through the socket engine is timed with the engine's dispatch in it and
/// could keep a fast server over the window for good.
/// </summary>
[TestFixture]
public class ResponsePollingDecisionTests
{
    [Test]
    public void A_server_answering_within_the_window_is_polled_for_every_time()
    {
        var skipped = 5;
        for (var i = 0; i < 40; i++) Assert.That(ResponsePolling.ShouldPoll(windowTicks: 100, answerTicks: 60, ref skipped), Is.True);
        Assert.That(skipped, Is.Zero);
    }

    [Test]
    public void A_server_slower_than_the_window_is_probed_once_every_sixteen_requests()
    {
        var skipped = 0;
        var polled = Enumerable.Range(0, 48).Select(_ => ResponsePolling.ShouldPoll(windowTicks: 100, answerTicks: 150, ref skipped)).ToList();
        Assert.That(polled.Select((p, i) => (p, i)).Where(x => x.p).Select(x => x.i), Is.EqualTo(new[] { 15, 31, 47 }));
    }

    [Test]
    public void Without_a_window_or_an_answer_time_nobody_polls()
    {
        var skipped = 0;
        for (var i = 0; i < 40; i++)
        {
            Assert.That(ResponsePolling.ShouldPoll(windowTicks: 0, answerTicks: 10, ref skipped), Is.False, "polling is off");
            Assert.That(ResponsePolling.ShouldPoll(windowTicks: 100, answerTicks: 0, ref skipped), Is.False, "no answer timed yet: the first request");
        }
    }
}
