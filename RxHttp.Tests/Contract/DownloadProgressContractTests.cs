using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Contract;

/// <summary>
/// DownloadProgress is fed by the reading thread and completed by whoever ends the body: a Release from another
/// thread must not complete it while the reader is still delivering a value.
/// </summary>
public class DownloadProgressContractTests : KestrelFixture
{
    [Test]
    public async Task Release_from_another_thread_while_progress_is_delivered_does_not_overlap_it()
    {
        await using var session = new ClientSession(Server.BaseUrl);
        var response = await session.Get("endless");
        ContractObserver<TransferProgress>? observer = null;
        var released = 0;
        observer = new ContractObserver<TransferProgress>(p =>
        {
            // The reading thread is inside OnNext: another thread releases the response now.
            if (p.Bytes > 0 && Interlocked.Exchange(ref released, 1) == 0) Task.Run(response.Release).Wait();
        });
        using var progress = response.DownloadProgress.Subscribe(observer);
        using var reading = response.Content.Subscribe(_ => { }, _ => { });
        await Wait.Until(() => observer.Terminated, what: "progress to end");
        Assert.That(observer.Violations, Is.Empty);
        Assert.That(observer.Completed, Is.True);
    }
}
