using System.Reactive.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using RxHttp;

// Usage: RxHttp.AotSmoke <base url of a server with GET /json and POST /echo-json>. Prints one line per check
// and exits 0 when all pass.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: RxHttp.AotSmoke <base-url>");
    return 2;
}

await using var session = new ClientSession(args[0], new ClientSessionOptions { JsonOptions = SmokeJson.Default.Options });

// JSON read: the session's options carry the source-generated resolver.
var info = await session.Get("json").SelectMany(r => r.Json(SmokeJson.Default.Info));
Check(info is { Name: "rx", Value: 42 }, $"GET json -> {info}");

// JSON sent with RequestOptions.Json through the session's options, and read back.
var echoed = await session.Post("echo-json", new RequestOptions { Json = new Info("aot", 7) }).SelectMany(r => r.Json(SmokeJson.Default.Info));
Check(echoed == new Info("aot", 7), $"POST Json -> {echoed}");

// JSON sent with explicit metadata.
var payload = await session.Post("echo-json", new RequestOptions { Data = JsonPayload.Create(new Info("typed", 1), SmokeJson.Default.Info) })
                           .SelectMany(r => r.Text());
Check(payload == "{\"name\":\"typed\",\"value\":1}", $"POST JsonPayload -> {payload}");

// A form from a dictionary (read without reflection).
var form = Payload.From(new Dictionary<string, int> { ["a"] = 1 }).ToString();
Check(form == "a=1", $"form -> {form}");

// The cookie jar's file (source-generated metadata inside the library).
var jar = new CookieJar();
jar.UpdateCookies(new[] { new KeyValuePair<string, string>("k", "v") });
var path = Path.Combine(Path.GetTempPath(), $"rxhttp-aot-{Environment.ProcessId}.json");
jar.Save(path);
var loaded = new CookieJar();
loaded.Load(path);
File.Delete(path);
Check(loaded.Count == 1, $"cookie jar save/load -> {loaded.Count} cookie(s)");

Console.WriteLine("AOT smoke: all checks passed");
return 0;

static void Check(bool ok, string what)
{
    Console.WriteLine((ok ? "ok   " : "FAIL ") + what);
    if (!ok) Environment.Exit(1);
}

internal sealed record Info(string Name, int Value);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Info))]
internal sealed partial class SmokeJson : JsonSerializerContext;
