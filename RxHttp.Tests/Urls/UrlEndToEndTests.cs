using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Urls;

/// <summary>The quickstart's URL examples as the server sees them: the raw request target Kestrel received.</summary>
[TestFixture]
public class UrlEndToEndTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        static string Raw(HttpContext c) => c.Features.Get<IHttpRequestFeature>()!.RawTarget;
        app.Map("/target", (HttpContext c) => Raw(c));
        app.Map("/target/{**rest}", (HttpContext c) => Raw(c));
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private async Task<(string Target, ClientResponse Response)> Send(string url, RequestOptions? options = null)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Get(url, options);
        return (await r.Text(), r);
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("target", (QueryParams)new Dictionary<string, string> { ["key1"] = "value1", ["key2"] = "value2" }, "/target?key1=value1&key2=value2").SetName("params dictionary");
        yield return new TestCaseData("target", (QueryParams)new[] { ("key", "value1"), ("key", "value2") }, "/target?key=value1&key=value2").SetName("params list of pairs keeps order and repeats");
        yield return new TestCaseData("target", (QueryParams)new Dictionary<string, string[]> { ["key"] = new[] { "a", "b" } }, "/target?key=a&key=b").SetName("params dictionary of lists");
        yield return new TestCaseData("target", (QueryParams)"key=value+1", "/target?key=value+1").SetName("params raw string keeps plus");
        yield return new TestCaseData("target", (QueryParams)new Dictionary<string, object?> { ["i"] = 1, ["f"] = 2.5, ["b"] = true }, "/target?i=1&f=2.5&b=true").SetName("params formatted invariantly");
        yield return new TestCaseData("target?a=1", (QueryParams)new Dictionary<string, string> { ["b"] = "x y" }, "/target?a=1&b=x+y").SetName("params merged with the URL's query");
        yield return new TestCaseData("target/путь/%30?a=%31", null, "/target/%D0%BF%D1%83%D1%82%D1%8C/0?a=1").SetName("requoted path and query");
        yield return new TestCaseData("target/a%2Fb?x=%26", null, "/target/a%2Fb?x=%26").SetName("protected escapes stay encoded");
        yield return new TestCaseData("target#frag", null, "/target").SetName("fragment never sent");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Request_target_arrives_as_specified(string url, QueryParams? query, string expected)
    {
        var (target, r) = await Send(url, new() { Params = query });
        Assert.That(target, Is.EqualTo(expected));
        Assert.That(r.Url.ToString(), Is.EqualTo(_server.BaseUrl.TrimEnd('/') + expected), "response.Url shows what was sent, without fragment");
    }

    [Test]
    public async Task Encoded_url_is_sent_byte_for_byte()
    {
        var (target, _) = await Send("target/%30%7e?a=%31&b=%2b", new() { Encoded = true });
        Assert.That(target, Is.EqualTo("/target/%30%7e?a=%31&b=%2b"));
    }

    [TestCase("target/a\r\nb")]
    [TestCase("target?q=a\nX-Injected: 1")]
    [TestCase("target/a\rb")]
    public void Cr_or_lf_in_a_url_fails_before_any_socket_opens(string path)
    {
        var before = _server.ConnectionCount;
        using var session = new ClientSession();
        Assert.ThrowsAsync<InvalidUrl>(async () => await session.Get(_server.BaseUrl + path));
        Assert.ThrowsAsync<InvalidUrl>(async () => await session.Get(Url.Parse(_server.BaseUrl).Join(Url.Parse("x")).ToString() + "\r\n"));
        Assert.That(_server.ConnectionCount, Is.EqualTo(before));
    }

    [Test]
    public void Cr_lf_in_params_is_percent_encoded_not_injected()
    {
        Assert.That(new QueryParams { { "q", "a\r\nb" } }.Encode(), Is.EqualTo("q=a%0D%0Ab"));
    }
}
