using System.Runtime.CompilerServices;
using RxHttp.Http1;

namespace RxHttp;

// Reading the body off the wire by its framing: a Content-Length, chunks, or until the server closes.
internal sealed partial class ResponseBody
{
    private ClientPayloadError MissingLength() =>
        new($"Response payload is not completed: not enough data to satisfy Content-Length ({_remaining} bytes missing).");

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadWireAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_state == 1) return 0;
        if (_state == 2)
            throw _connection.AbortReason is ClientError ce ? ce : new ClientPayloadError("The response was released before its body was read.");
        try
        {
            var n = _framing switch
            {
                BodyFraming.ContentLength => await ReadLengthAsync(destination, ct).ConfigureAwait(false),
                BodyFraming.Chunked => await ReadChunkedAsync(destination, ct).ConfigureAwait(false),
                _ => await ReadUntilCloseAsync(destination, ct).ConfigureAwait(false),
            };
            return n;
        }
        catch (Exception e)
        {
            var failure = ReadFailure(e);
            if (failure == e) throw;
            throw failure;
        }
    }

    // A failed read ends the body (the connection is closed) and fails with the client's error for it.
    private Exception ReadFailure(Exception e)
    {
        Fail();
        if (e is OperationCanceledException) return e;
        if (_connection.AbortReason is ClientError reason) return reason;
        if (e is HttpParseException pe) return new ClientPayloadError("Response payload is not completed: " + pe.Message, pe);
        if (e is ServerDisconnectedError sd) return new ClientPayloadError("Response payload is not completed: " + sd.Message, sd);
        return e;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadLengthAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_remaining == 0) return Finish();
        int n;
        if (_connection.BufferedCount == 0 && destination.Length < DirectReadMin && await _connection.FillAsync(_timer, ct).ConfigureAwait(false) == 0)
            throw MissingLength();
        if (_connection.BufferedCount > 0)
        {
            n = (int)Math.Min(Math.Min(_connection.BufferedCount, destination.Length), _remaining);
            _connection.Buffered[..n].CopyTo(destination.Span);
            _connection.Consume(n);
            BytesViaBuffer += n;
        }
        else
        {
            var max = (int)Math.Min(destination.Length, _remaining);
            n = await _connection.ReadRawAsync(destination[..max], _timer, ct).ConfigureAwait(false);
            if (n == 0) throw MissingLength();
        }
        _remaining -= n;
        Count(n);
        if (_remaining == 0) Finish();
        return n;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadChunkedAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (true)
        {
            if (_pending > 0)
            {
                var n = Math.Min(_pending, destination.Length);
                _connection.Buffered[..n].CopyTo(destination.Span);
                _connection.Consume(n);
                _pending -= n;
                Count(n);
                return n;
            }
            var status = _chunked!.Decode(_connection.Buffered, out var consumed, out var dataOffset, out var dataLength);
            if (status == ChunkedStatus.Data)
            {
                _connection.Consume(dataOffset);
                _pending = dataLength;
                continue;
            }
            _connection.Consume(consumed);
            if (status == ChunkedStatus.Done)
            {
                Finish();
                return 0;
            }
            // Inside a chunk with nothing buffered: its data goes straight from the socket into the destination, one
            // copy instead of two and reads as large as the destination rather than the connection buffer.
            if (_chunked.DataRemaining > 0 && _connection.BufferedCount == 0 && destination.Length >= DirectReadMin)
            {
                var max = (int)Math.Min(destination.Length, _chunked.DataRemaining);
                var direct = await _connection.ReadRawAsync(destination[..max], _timer, ct).ConfigureAwait(false);
                if (direct == 0) throw new ClientPayloadError("Response payload is not completed: the connection closed inside a chunked body.");
                _chunked.SkipData(direct);
                Count(direct);
                return direct;
            }
            var read = await _connection.FillAsync(_timer, ct).ConfigureAwait(false);
            if (read == 0) throw new ClientPayloadError("Response payload is not completed: the connection closed inside a chunked body.");
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadUntilCloseAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_connection.BufferedCount == 0 && destination.Length < DirectReadMin && await _connection.FillAsync(_timer, ct).ConfigureAwait(false) == 0)
            return Finish();
        if (_connection.BufferedCount > 0)
        {
            var n = Math.Min(_connection.BufferedCount, destination.Length);
            _connection.Buffered[..n].CopyTo(destination.Span);
            _connection.Consume(n);
            Count(n);
            return n;
        }
        var read = await _connection.ReadRawAsync(destination, _timer, ct).ConfigureAwait(false);
        if (read == 0) Finish();
        else Count(read);
        return read;
    }
}
