using System.Globalization;
using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace RxHttp;

/// <summary>Settings of the retry operator.</summary>
public sealed record RetryOptions
{
    /// <summary>Attempts in all, the first included (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The delay before the second attempt; it doubles for each later one (default 0.5 s).</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay, also the cap on a server's Retry-After (default 30 s).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How much of each backoff delay is random, 0 to 1 (default 0.5): the delay is
    /// <c>d - d * Jitter * random()</c>, so clients that failed together do not retry together.
    /// </summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>The random source in [0, 1) for the jitter (default <see cref="System.Random.Shared"/>); tests pin it.</summary>
    public Func<double>? Random { get; init; }

    /// <summary>
    /// Whether an outcome is worth another attempt: the response (or null) and the error (or null). Default
    /// <see cref="IsTransient"/>: connection errors and timeouts, 408, 429 and 5xx.
    /// </summary>
    public Func<ClientResponse?, Exception?, bool>? Transient { get; init; }

    /// <summary>
    /// Retry methods that are not idempotent (POST, PATCH) too (default false, RFC 9110 §9.2.2). Whatever the method,
    /// a request is retried only when its body can be sent again (<see cref="Payload.IsReplayable"/>): bytes, text,
    /// JSON, forms, files and seekable streams (rewound to where they started) can; a one-shot body (a non-seekable
    /// stream, an <see cref="IAsyncEnumerable{T}"/> or <see cref="IObservable{T}"/> of chunks, multipart with such a
    /// part) is sent once and its outcome passed on.
    /// </summary>
    public bool RetryNonIdempotent { get; init; }

    /// <summary>Wait as long as a 429/503 response's Retry-After says (capped by <see cref="MaxDelay"/>; default true).</summary>
    public bool RespectRetryAfter { get; init; } = true;

    /// <summary>The default transient test: connection errors and timeouts (not a closed session), 408, 429 and 5xx.</summary>
    public static bool IsTransient(ClientResponse? response, Exception? error) =>
        error is not null
            ? error is ClientConnectionError and not SessionClosedError and not ClientSslError and not ServerFingerprintMismatch
            : response is { Status: 408 or 429 or >= 500 };
}

/// <summary>Retrying with exponential backoff as an operator; every delay runs on the given scheduler.</summary>
public static class RetryOperator
{
    /// <summary>
    /// Sends the request through <paramref name="hop"/> up to <see cref="RetryOptions.MaxAttempts"/> times while
    /// the outcome is transient, waiting <c>BaseDelay * 2^(n-1)</c> (jittered, capped) or the server's
    /// Retry-After between attempts. A transient response that is retried is released; the last outcome is
    /// passed on as it is. Only idempotent requests with a replayable body are retried unless told otherwise.
    /// </summary>
    /// <param name="hop">The hop each attempt goes through.</param>
    /// <param name="options">How often and how long to wait.</param>
    /// <param name="scheduler">The clock of the backoff delays, whatever the request's own.</param>
    public static RequestHandler WithRetry(this RequestHandler hop, RetryOptions options, IScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(hop);
        Validate(options);
        ArgumentNullException.ThrowIfNull(scheduler);
        return Build(hop, options, _ => scheduler);
    }

    /// <summary>
    /// As <see cref="WithRetry(RequestHandler, RetryOptions, IScheduler)"/>, waiting on each request's own clock:
    /// <see cref="ClientRequest.Scheduler"/>, which a session sets to <see cref="RequestOptions.Scheduler"/> or its
    /// <see cref="ClientSession.Scheduler"/> (<see cref="DefaultScheduler.Instance"/> for a request that has none).
    /// </summary>
    public static RequestHandler WithRetry(this RequestHandler hop, RetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(hop);
        Validate(options);
        return Build(hop, options, static r => r.Scheduler ?? DefaultScheduler.Instance);
    }

    private static RequestHandler Build(RequestHandler hop, RetryOptions options, Func<ClientRequest, IScheduler> clock)
    {
        var transient = options.Transient ?? RetryOptions.IsTransient;
        var random = options.Random ?? System.Random.Shared.NextDouble;

        return request =>
        {
            var allowed = (options.RetryNonIdempotent || request.IsIdempotent) && (request.Body is null || request.Body.IsReplayable);
            var scheduler = clock(request);
            IObservable<ClientResponse> Attempt(int n) =>
                hop(request)
                    .Select(r => (Response: (ClientResponse?)r, Error: (Exception?)null))
                    .Catch((Exception e) => Observable.Return((Response: (ClientResponse?)null, Error: (Exception?)e)))
                    .SelectMany(outcome =>
                    {
                        bool retry;
                        TimeSpan delay = default;
                        try
                        {
                            retry = allowed && n < options.MaxAttempts && transient(outcome.Response, outcome.Error);
                            if (retry) delay = DelayFor(n, outcome.Response, options, random, scheduler);
                        }
                        catch
                        {
                            // The caller's predicate (or random source) failed: its error replaces the response, which
                            // nobody else holds now, so it is released here or its connection stays leased.
                            outcome.Response?.Release();
                            throw;
                        }
                        if (retry)
                        {
                            outcome.Response?.Release();
                            // Through the wheel: a server's Retry-After under a large MaxDelay can be longer than Scheduler.Default takes whole.
                            return Transport.TimerWheel.Wait(scheduler, delay).SelectMany(_ => Attempt(n + 1));
                        }
                        return outcome.Error is null ? Observable.Return(outcome.Response!) : Observable.Throw<ClientResponse>(outcome.Error);
                    });
            return Observable.Defer(() => Attempt(1));
        };
    }

    // At building time, so a bad setting fails where the operator is made rather than on the first request.
    private static void Validate(RetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        if (options.BaseDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "BaseDelay cannot be negative.");
        if (options.MaxDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "MaxDelay cannot be negative.");
        // Not "is < 0 or > 1": NaN passes both, and made every retry immediate.
        if (!(options.Jitter is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), "Jitter must be between 0 and 1.");
    }

    /// <summary>The retry operator as a middleware, to put in <see cref="ClientSessionOptions.Middlewares"/>; its delays run on <paramref name="scheduler"/>.</summary>
    public static Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Middleware(RetryOptions options, IScheduler scheduler)
    {
        Validate(options);
        ArgumentNullException.ThrowIfNull(scheduler);
        return (request, next) => ((RequestHandler)(r => next(r))).WithRetry(options, scheduler)(request);
    }

    /// <summary>
    /// The retry operator as a middleware whose delays run on each request's clock (<see cref="ClientRequest.Scheduler"/>:
    /// the request's <see cref="RequestOptions.Scheduler"/>, else the session's), so a session on a <c>TestScheduler</c>
    /// decides its backoff by <c>AdvanceBy</c> without naming the scheduler twice.
    /// </summary>
    public static Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Middleware(RetryOptions options)
    {
        Validate(options);
        return (request, next) => ((RequestHandler)(r => next(r))).WithRetry(options)(request);
    }

    internal static TimeSpan DelayFor(int attempt, ClientResponse? response, RetryOptions options, Func<double> random, IScheduler scheduler)
    {
        if (options.RespectRetryAfter && response is { Status: 429 or 503 } && RetryAfter(response.Headers.Get("Retry-After"), scheduler.Now) is { } after)
            return after > options.MaxDelay ? options.MaxDelay : after;
        return Backoff.Delay(options.BaseDelay, 2, attempt, options.MaxDelay, options.Jitter, random);
    }

    // RFC 9110 §10.2.3: delay-seconds or an HTTP-date (measured against the scheduler's clock, so virtual time works).
    internal static TimeSpan? RetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue));
        // Still delay-seconds, only too many of them for a long: the server asked for a very long wait, not for none
        // (RFC 9111 §1.2.2 reads an overflowing delta-seconds as 2^31), so MaxDelay applies rather than the backoff.
        if (value.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0) return TimeSpan.FromSeconds(int.MaxValue);
        if (HttpDate.Parse(value) is { } date)
            return date > now ? date - now : TimeSpan.Zero;
        return null;
    }
}
