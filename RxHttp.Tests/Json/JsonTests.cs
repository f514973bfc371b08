using System.Reactive.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Content;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Json;

public sealed record Dto(string Name, int FooBar);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Dto))]
public sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>JSON in both directions: one set of options, and source-generated metadata beside every entry point.</summary>
public class JsonTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
        app.MapPost("/echo-json", async (HttpContext c) =>
        {
            c.Response.ContentType = "application/json";
            await c.Request.Body.CopyToAsync(c.Response.Body);
        }));

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task The_session_json_options_apply_to_what_is_sent_as_well_as_to_what_is_read()
    {
        // PascalCase, case-sensitive: before, the body went out camelCase and came back as Dto { Name = , FooBar = 0 }.
        await using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { JsonOptions = new JsonSerializerOptions() });
        var response = await session.Post("echo-json", new() { Json = new Dto("rx", 7) });
        var raw = await response.Text();
        Assert.That(raw, Is.EqualTo("{\"Name\":\"rx\",\"FooBar\":7}"));
        var back = await session.Post("echo-json", new() { Json = new Dto("rx", 7) }).SelectMany(r => r.Json<Dto>());
        Assert.That(back, Is.EqualTo(new Dto("rx", 7)));
    }

    [Test]
    public async Task The_default_options_send_web_camel_case()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var raw = await session.Post("echo-json", new() { Json = new Dto("rx", 7) }).SelectMany(r => r.Text());
        Assert.That(raw, Is.EqualTo("{\"name\":\"rx\",\"fooBar\":7}"));
    }

    [Test]
    public async Task Source_generated_metadata_sends_and_reads_without_reflection()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var back = await session.Post("echo-json", new() { Data = JsonPayload.Create(new Dto("aot", 3), TestJsonContext.Default.Dto) })
                                .SelectMany(r => r.Json(TestJsonContext.Default.Dto));
        Assert.That(back, Is.EqualTo(new Dto("aot", 3)));
    }

    [Test]
    public async Task Session_options_whose_resolver_is_a_context_serve_RequestOptions_Json()
    {
        await using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { JsonOptions = TestJsonContext.Default.Options });
        var back = await session.Post("echo-json", new() { Json = new Dto("ctx", 5) }).SelectMany(r => r.Json<Dto>());
        Assert.That(back, Is.EqualTo(new Dto("ctx", 5)));
        // A type the context does not know fails clearly instead of falling back to reflection.
        var e = Assert.ThrowsAsync<NotSupportedException>(async () => await session.Post("echo-json", new() { Json = new Uri("http://x/") }));
        Assert.That(e!.Message, Does.Contain("Uri"));
    }

    [Test]
    public void The_typed_json_of_a_response_checks_the_content_type()
    {
        Assert.ThrowsAsync<ContentTypeError>(async () =>
        {
            await using var session = new ClientSession(_server.BaseUrl);
            await session.Get("hello").SelectMany(r => r.Json(TestJsonContext.Default.Dto));
        });
    }

    [Test]
    public void A_malformed_body_read_with_metadata_is_a_payload_error()
    {
        Assert.ThrowsAsync<ClientPayloadError>(async () =>
        {
            await using var session = new ClientSession(_server.BaseUrl);
            await session.Post("echo-json", new() { Data = "{not json" }).SelectMany(r => r.Json(TestJsonContext.Default.Dto, contentType: null));
        });
    }

    [Test]
    public void Websocket_messages_read_with_metadata()
    {
        Assert.That(WsMessage.CreateText("{\"name\":\"ws\",\"fooBar\":1}").Json(TestJsonContext.Default.Dto), Is.EqualTo(new Dto("ws", 1)));
        Assert.That(WsMessage.CreateBinary("{\"name\":\"b\",\"fooBar\":2}"u8.ToArray()).Json(TestJsonContext.Default.Dto), Is.EqualTo(new Dto("b", 2)));
        Assert.Throws<InvalidOperationException>(() => WsMessage.CreatePing(default).Json(TestJsonContext.Default.Dto));
    }

    [Test]
    public async Task Multipart_json_parts_write_and_read_with_metadata()
    {
        var writer = new MultipartWriter("mixed");
        writer.AppendJson(new Dto("part", 9), TestJsonContext.Default.Dto);
        writer.AppendJson(new Dto("reflection", 1), options: new JsonSerializerOptions());
        var bytes = await CollectingWriter.WriteAsync(writer);
        var parts = MultipartReader.Parse(bytes, writer.ContentType!);
        Assert.That(parts[0].ContentType, Is.EqualTo("application/json"));
        Assert.That(parts[0].Json(TestJsonContext.Default.Dto), Is.EqualTo(new Dto("part", 9)));
        Assert.That(parts[1].Text(), Is.EqualTo("{\"Name\":\"reflection\",\"FooBar\":1}"));
    }
}
