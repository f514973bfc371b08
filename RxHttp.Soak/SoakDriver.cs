using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;

namespace RxHttp.Soak;

/// <summary>
/// Many requests against <see cref="FaultyServer"/>, each cancelled at a random point (before connect, in the head,
/// mid-body) by a random means (dispose, <c>Switch()</c>, <c>Timeout</c>, <c>TakeUntil</c>) or left to finish,
/// <c>concurrency</c> at a time; then checks that nothing leaked: the process's socket descriptors are back to the
/// baseline, the pool is idle, managed memory is flat, no task exception went unobserved, and a normal request works.
/// Prints the figures; the exit code says whether every check held.
/// </summary>
public static class SoakDriver
{
    private static readonly string[] Modes = ["finish", "dispose", "before-connect", "switch", "timeout", "take-until"];

    public static async Task<int> RunAsync(int requests, int concurrency, int seed)
    {
        var unobserved = 0;
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            Interlocked.Increment(ref unobserved);
            Console.Error.WriteLine("unobserved: " + e.Exception.InnerException);
            e.SetObserved();
        };
        using var server = FaultyServer.Start();
        var timeout = new ClientTimeout { Total = TimeSpan.FromSeconds(30), SockRead = TimeSpan.FromSeconds(1) };

        // Warm up every path once in a session of its own, so the runtime's lazily opened descriptors (the socket
        // engine's epoll and pipe) are part of the baseline.
        using (var warm = new ClientSession(new ClientSessionOptions { Timeout = timeout }))
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i => RunOne(warm, server, new Random(i), FaultyServer.Paths[i % FaultyServer.Paths.Length], i < 30 ? "finish" : "dispose")));
        await Until(() => server.OpenConnections == 0, TimeSpan.FromSeconds(30));
        Collect();
        var fdBaseline = ProcessFigures.SocketDescriptors();
        var memBaseline = GC.GetTotalMemory(forceFullCollection: true);

        var clock = Stopwatch.StartNew();
        var outcomes = new ConcurrentDictionary<string, int>();
        long memMid = 0;
        var next = -1;
        var session = new ClientSession(new ClientSessionOptions { Timeout = timeout });
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var random = new Random(seed * 1_000_003 + i);
                var path = FaultyServer.Paths[random.Next(FaultyServer.Paths.Length)];
                var mode = Modes[random.Next(Modes.Length)];
                var outcome = await RunOne(session, server, random, path, mode);
                outcomes.AddOrUpdate($"{mode}/{outcome}", 1, (_, n) => n + 1);
                if (i == requests / 4) Interlocked.Exchange(ref memMid, GC.GetTotalMemory(forceFullCollection: true));
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;

        // Cancelled requests close their connections as the cancellation lands, not before Dispose returns.
        var idle = await Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0, Waiting: 0 }, TimeSpan.FromSeconds(30));
        // Before the session closes its idle connections: every client socket left is one the pool knows about. A
        // connection closed as the run ended may still be closing on the server's side while the counts are read, so
        // they are given a moment to agree; a leaked socket never does. The figures reported are those of the reading
        // that agreed (or the last one). Read once more after the wait had agreed, they once showed one socket more
        // than the counts (39 against 38, in a full test run beside a build), which 24 runs alone or under load did
        // not show again: a socket between two of the counts (accepted and not yet counted by the server, say).
        var poolAfter = session.Connector.CurrentState;
        int fdLive = 0, fdExpected = 0, serverSide = 0;
        await Until(() =>
        {
            poolAfter = session.Connector.CurrentState;
            serverSide = server.OpenConnections;
            fdLive = ProcessFigures.SocketDescriptors();
            fdExpected = fdBaseline + poolAfter.Open + serverSide;
            return fdLive <= fdExpected;
        }, TimeSpan.FromSeconds(5));
        var normal = await session.Get(server.Url("/ok")).SelectMany(r => r.Text()).FirstAsync() == "ok" ? "ok" : "wrong";
        Collect();
        var memEnd = GC.GetTotalMemory(forceFullCollection: true);
        session.Dispose();
        var serverClosed = await Until(() => server.OpenConnections == 0, TimeSpan.FromSeconds(30));
        Collect();
        var fdsClean = await Until(() => ProcessFigures.SocketDescriptors() <= fdBaseline, TimeSpan.FromSeconds(10));
        var fdAfter = ProcessFigures.SocketDescriptors();
        Collect();

        var flat = memEnd - memMid < 16 * 1024 * 1024;
        var pass = idle && fdLive <= fdExpected && fdsClean && flat && Volatile.Read(ref unobserved) == 0 && normal == "ok";
        Console.WriteLine($"soak: {requests:N0} requests, {concurrency} at a time, seed {seed}, {elapsed.TotalSeconds:F1} s ({requests / elapsed.TotalSeconds:N0}/s)");
        foreach (var group in outcomes.OrderBy(kv => kv.Key)) Console.WriteLine($"  {group.Key,-50} {group.Value,7:N0}");
        Console.WriteLine($"socket descriptors: baseline {fdBaseline}; before the session closed {fdLive} (baseline + {poolAfter.Open} pooled + {serverSide} server side = {fdExpected}); after {fdAfter}; server-side connections still open: {server.OpenConnections}{(serverClosed ? "" : " (waited 30 s)")}");
        if (!fdsClean)
            foreach (var t in ProcessFigures.DescriptorTargets().Where(t => t.StartsWith("socket:", StringComparison.Ordinal))) Console.WriteLine("  open: " + t);
        Console.WriteLine($"pool after the run: {poolAfter}");
        Console.WriteLine($"managed memory: baseline {memBaseline / 1024} KiB, at 25% {memMid / 1024} KiB, at the end {memEnd / 1024} KiB");
        Console.WriteLine($"unobserved task exceptions: {Volatile.Read(ref unobserved)}");
        Console.WriteLine($"a normal request afterwards: {normal}");
        Console.WriteLine($"requests={requests} fds_baseline={fdBaseline} fds_live={fdLive} fds_expected={fdExpected} fds_after={fdAfter} in_use={poolAfter.InUse} opening={poolAfter.Opening} " +
            $"waiting={poolAfter.Waiting} mem_mid={memMid} mem_end={memEnd} unobserved={Volatile.Read(ref unobserved)} normal={normal} result={(pass ? "pass" : "FAIL")}");
        return pass ? 0 : 1;
    }

    // One request whose body is read whole or streamed, cancelled by `mode` after a random delay; returns what happened.
    private static async Task<string> RunOne(ClientSession session, ScriptedServer server, Random random, string path, string mode)
    {
        var streamed = random.Next(2) == 0;
        var call = session.Get(server.Url(path)).SelectMany(r => streamed
            ? r.Content.Aggregate(0L, (n, c) => n + c.Length)
            : r.Read().Select(b => (long)b.Length));
        var delay = TimeSpan.FromMilliseconds(random.Next(0, 25));
        try
        {
            switch (mode)
            {
                case "finish":
                    await call.FirstAsync();
                    return "completed";
                case "timeout":
                    await call.Timeout(delay).FirstAsync();
                    return "completed";
                case "take-until":
                    return await call.TakeUntil(Observable.Timer(delay)).Select(_ => "completed").DefaultIfEmpty("cut").FirstAsync();
                case "before-connect":
                    call.Subscribe(_ => { }, _ => { }).Dispose();
                    return "cut";
                case "dispose":
                {
                    var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                    var subscription = call.Subscribe(_ => { }, e => done.TrySetResult(e.GetType().Name), () => done.TrySetResult("completed"));
                    var first = await Task.WhenAny(done.Task, Task.Delay(delay));
                    subscription.Dispose();
                    return first == done.Task ? await done.Task : "cut";
                }
                default: // switch
                {
                    var source = new Subject<IObservable<string>>();
                    var result = source.Switch().FirstAsync().ToTask();
                    source.OnNext(call.Select(_ => "completed"));
                    var first = await Task.WhenAny(result, Task.Delay(delay));
                    if (first != result) source.OnNext(Observable.Return("cut"));
                    return await result;
                }
            }
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }

    private static async Task<bool> Until(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit) return false;
            await Task.Delay(20);
        }
        return true;
    }

    private static void Collect()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
