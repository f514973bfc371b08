using System.Diagnostics;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;
using RxHttp;
using RxHttp.Testing;

/// <summary>
/// `fake`: the wall time of a user's virtual-time test of 100 scripted requests through RxHttp.Testing, including one
/// that waits out a 30 s total timeout and one that retries through a 5-step backoff (1+2+4+8+16 s); no socket opens.
/// Reports the median of several runs after a warm-up run (the first run in a process includes JIT compilation).
/// </summary>
internal static class FakeHttpProbe
{
    public static int Run(string[] args)
    {
        var rounds = args.Length > 1 && int.TryParse(args[1], out var r) ? r : 20;
        var cold = Once(out var virtualEnd);
        var times = Enumerable.Range(0, rounds).Select(_ => Once(out long _)).Order().ToList();
        Console.WriteLine($"100 scripted requests (one 30 s timeout, one 5-step retry backoff), {TimeSpan.FromTicks(virtualEnd).TotalSeconds:0.#} s of virtual time:");
        Console.WriteLine($"  first run in the process (JIT included): {cold.TotalMilliseconds:0.0} ms");
        Console.WriteLine($"  median of {rounds} runs: {times[times.Count / 2].TotalMilliseconds:0.00} ms (min {times[0].TotalMilliseconds:0.00}, max {times[^1].TotalMilliseconds:0.00})");
        return 0;
    }

    private static TimeSpan Once(out long virtualEnd)
    {
        var watch = Stopwatch.StartNew();
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", "https://api.example.test/items/*").Respond(200, "item");
        http.When("GET", "https://api.example.test/slow").Fail(FakeFault.Stall);
        http.When("GET", "https://api.example.test/flaky").Respond(503).Respond(503).Respond(503).Respond(503).Respond(503).Respond(200, "finally");
        using var session = http.CreateSession(scheduler, new ClientTimeout { Total = TimeSpan.FromSeconds(30) });

        var requests = Enumerable.Range(0, 98).Select(i => session.Get($"https://api.example.test/items/{i}").SelectMany(r => r.Text()))
            .Append(session.Get("https://api.example.test/slow").Select(_ => "?").Catch((TotalTimeoutError _) => Observable.Return("timed out")))
            .Append(Observable.Defer(() => session.Get("https://api.example.test/flaky", new RequestOptions { RaiseForStatus = true }))
                .RetryWhen(errors => errors.Select((_, n) => n).SelectMany(n => Observable.Timer(TimeSpan.FromSeconds(1 << n), scheduler)))
                .SelectMany(r => r.Text()));
        var results = scheduler.Start(() => requests.Merge().ToList(), 0, 1, TimeSpan.FromMinutes(5).Ticks);
        watch.Stop();
        var list = results.Messages[0].Value.Value;
        if (list.Count != 100 || !list.Contains("timed out") || !list.Contains("finally")) throw new InvalidOperationException("unexpected results: " + string.Join(",", list.Distinct()));
        if (http.ConnectionsOpened == 0 || http.Calls.Count != 100 + 5) throw new InvalidOperationException($"unexpected calls: {http.Calls.Count}");
        virtualEnd = results.Messages[0].Time;
        return watch.Elapsed;
    }
}
