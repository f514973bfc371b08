// The UI sample: a Terminal.Gui app bound to RxHttp's response streams. Without --url it starts the demo server
// in-process, so it runs offline:
//   dotnet run --project RxHttp.Samples.Tui [-- --url http://127.0.0.1:8080/] [--downloads DIR] [--download-size BYTES] [--download-rate BYTES_PER_S]
using System.Globalization;
using RxHttp;
using RxHttp.Samples;
using RxHttp.Samples.Tui;
using RxHttp.Samples.Tui.ViewModels;
using RxHttp.Samples.Tui.Views;
using Terminal.Gui.App;

string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

long Bytes(string name, long fallback) =>
    Option(name) is not { } text ? fallback
    : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
    : throw new ArgumentException($"{name} takes a positive number of bytes, not '{text}'");

// A mistyped argument is one line and exit 1, before the screen is taken: not an unhandled exception's stack (exit 134).
string? url;
long size, rate;
try
{
    url = Option("--url");
    if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
        throw new ArgumentException($"--url takes an absolute http:// or https:// URL, not '{url}'");
    // The session's base URL is a directory: http://host:8080/api means http://host:8080/api/.
    if (url is not null && !url.EndsWith('/')) url += "/";
    size = Bytes("--download-size", 4 << 20);
    rate = Bytes("--download-rate", 512 << 10);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"rxhttp-tui: error: {e.Message}");
    return 1;
}

await using var server = url is null ? await DemoServer.StartAsync() : null;
var baseUrl = url ?? server!.BaseUrl;
var downloadDirectory = Option("--downloads") ?? Path.Combine(Path.GetTempPath(), "rxhttp-tui-downloads");
Directory.CreateDirectory(downloadDirectory);

await using var session = new ClientSession(baseUrl);
var api = new DemoApi(session, downloadDirectory);

using IApplication app = Application.Create();
app.Init();
var ui = new MainLoopScheduler(app);
using var search = new SearchViewModel(api.Search, ui);
using var downloads = new DownloadsViewModel(name => api.Download(name, size, rate), ui);
var feed = new LiveFeedViewModel(api.Ticks("ws" + baseUrl[4..] + "ticks"), ui);
using (var window = new MainWindow(search, downloads, feed)) app.Run(window);
return 0;
