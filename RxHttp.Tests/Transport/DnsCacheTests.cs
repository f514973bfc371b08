using System.Net;
using System.Net.Sockets;
using Microsoft.Reactive.Testing;
using NUnit.Framework;
using RxHttp.Transport;

namespace RxHttp.Tests.Transport;

/// <summary>The DNS cache's look-up leaves its caller whatever context the caller runs in.</summary>
[TestFixture]
public class DnsCacheTests
{
    [Test]
    public async Task Under_a_context_that_runs_posts_inline_an_expired_entry_is_looked_up_again()
    {
        // A look-up that finished inside ResolveAsync's lock (a synchronous resolver, reached through a context
        // that runs posts inline) removed its in-flight entry before it was added: that finished task then answered
        // for the name forever, and the time to live was never honoured again.
        var clock = new TestScheduler();
        var resolver = new CountingResolver();
        var cache = new DnsCache(resolver, () => clock);
        var ttl = TimeSpan.FromSeconds(10);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new InlineContext());
        try
        {
            var first = await cache.ResolveAsync("a.test", 80, AddressFamily.Unspecified, ttl, CancellationToken.None);
            clock.AdvanceBy(ttl.Ticks + 1);
            var second = await cache.ResolveAsync("a.test", 80, AddressFamily.Unspecified, ttl, CancellationToken.None);
            Assert.That(resolver.Calls, Is.EqualTo(2), "the expired entry reached the resolver again");
            Assert.That(first[0], Is.EqualTo(IPAddress.Parse("10.0.0.1")));
            Assert.That(second[0], Is.EqualTo(IPAddress.Parse("10.0.0.2")), "the fresh answer, not the first one");
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private sealed class CountingResolver : IResolver
    {
        public int Calls;

        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, AddressFamily family, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<IPAddress>>([IPAddress.Parse($"10.0.0.{Interlocked.Increment(ref Calls)}")]);
    }

    private sealed class InlineContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => d(state);
    }
}
