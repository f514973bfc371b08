using System.Reactive;
using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace RxHttp.WebSockets;

/// <summary>
/// The bounded, ordered send queue of a <see cref="ReconnectingWebSocket"/>: sends wait here while there is no
/// ready connection and are written one at a time, in order, to the target socket; a send's observable completes
/// when its frame is written. A write that fails because the socket went away goes back to the front and is
/// written on the next connection (at least once). Disposing a waiting send's subscription takes it out.
/// </summary>
internal sealed class WsSendQueue(int limit, WsSendQueueFullMode fullMode)
{
    private sealed class Item(string? text, ReadOnlyMemory<byte> bytes, IObserver<Unit> observer)
    {
        public readonly string? Text = text;
        public readonly ReadOnlyMemory<byte> Bytes = bytes;
        public readonly IObserver<Unit> Observer = observer;
        public LinkedListNode<Item>? Node;
    }

    private readonly object _gate = new();
    private readonly LinkedList<Item> _waiting = new();
    private Item? _writing;
    private ClientWebSocket? _target;
    private Exception? _closed;

    /// <summary>Sends waiting to be written (not the one being written).</summary>
    public int Count { get { lock (_gate) return _waiting.Count; } }

    /// <summary>A cold send: each subscription queues one message (text when <paramref name="text"/> is set, else bytes).</summary>
    public IObservable<Unit> Enqueue(Func<string?> text, ReadOnlyMemory<byte> bytes) =>
        Observable.Create<Unit>(observer =>
        {
            string? message;
            try
            {
                message = text(); // a JSON serializer's error fails this send, as any send's error does
            }
            catch (Exception e)
            {
                observer.OnError(e);
                return Disposable.Empty;
            }
            var item = new Item(message, bytes, observer);
            Item? dropped = null;
            Exception? refused = null;
            lock (_gate)
            {
                if (_closed is not null) refused = _closed;
                else if (_waiting.Count >= limit)
                {
                    if (fullMode == WsSendQueueFullMode.Fail)
                        refused = new WsSendQueueFullError($"The send queue is full ({limit} messages wait for a connection); nothing was sent.");
                    else
                    {
                        dropped = _waiting.First!.Value;
                        _waiting.RemoveFirst();
                        dropped.Node = null;
                    }
                }
                if (refused is null) item.Node = _waiting.AddLast(item);
            }
            dropped?.Observer.OnError(new WsSendQueueFullError($"Dropped unsent: the send queue was full ({limit} messages) and a newer message took its place."));
            if (refused is not null)
            {
                observer.OnError(refused);
                return Disposable.Empty;
            }
            Pump();
            return Disposable.Create(() => Remove(item));
        });

    /// <summary>Writes to <paramref name="socket"/> from now on; null stops writing (the one being written finishes).</summary>
    public void SetTarget(ClientWebSocket? socket)
    {
        lock (_gate) _target = socket;
    }

    /// <summary>Fails every waiting send and every later one with <paramref name="error"/>.</summary>
    public void Close(Exception error)
    {
        List<Item> failed;
        lock (_gate)
        {
            if (_closed is not null) return;
            _closed = error;
            _target = null;
            failed = _waiting.ToList();
            _waiting.Clear();
            foreach (var i in failed) i.Node = null;
        }
        foreach (var i in failed) i.Observer.OnError(error);
    }

    /// <summary>Writes waiting sends to the target, one at a time, until none waits or there is no target.</summary>
    public void Pump()
    {
        lock (_gate)
        {
            // One pumping loop at a time. A write that completes inline calls back here (Written) on the loop's own
            // thread: the loop goes on instead of recursing once per queued message.
            if (_pumpingThread is not null) return;
            _pumpingThread = Thread.CurrentThread;
        }
        try
        {
            while (true)
            {
                Item item;
                ClientWebSocket target;
                lock (_gate)
                {
                    if (_writing is not null || _target is null || _waiting.First is null)
                    {
                        _pumpingThread = null;
                        return;
                    }
                    target = _target;
                    item = _waiting.First.Value;
                    _waiting.RemoveFirst();
                    item.Node = null;
                    _writing = item;
                }
                IObservable<Unit> write;
                try
                {
                    write = item.Text is { } text ? target.SendStr(text) : target.SendBytes(item.Bytes);
                }
                catch (Exception e)
                {
                    // A text UTF-8 cannot encode (a lone surrogate, from SendStr or a custom JSON serializer) is this
                    // send's error. Let through, it left _writing set for good: no later send was ever written.
                    lock (_gate) _writing = null;
                    item.Observer.OnError(e);
                    continue;
                }
                write.Subscribe(_ => { }, e => Failed(item, target, e), () => Written(item));
            }
        }
        catch
        {
            lock (_gate) _pumpingThread = null;
            throw;
        }
    }

    private Thread? _pumpingThread;

    private void Written(Item item)
    {
        lock (_gate) _writing = null;
        item.Observer.OnNext(Unit.Default);
        item.Observer.OnCompleted();
        Pump();
    }

    private void Failed(Item item, ClientWebSocket target, Exception error)
    {
        bool retry;
        lock (_gate)
        {
            _writing = null;
            // The socket went away under the write: the message waits for the next connection, at the front.
            retry = error is WsConnectionError && _closed is null;
            if (retry)
            {
                item.Node = _waiting.AddFirst(item);
                if (ReferenceEquals(_target, target)) _target = null;
            }
        }
        if (!retry) item.Observer.OnError(_closed ?? error);
        Pump();
    }

    private void Remove(Item item)
    {
        lock (_gate)
        {
            if (item.Node is { } node && node.List == _waiting) _waiting.Remove(node);
            item.Node = null;
        }
    }
}
