// The UI sample: a Terminal.Gui app bound to RxHttp's response streams. Without --url it starts the demo server
// in-process, so it runs offline:
//   dotnet run --project RxHttp.Samples.Tui [-- --url http://127.0.0.1:8080/] [--downloads DIR] [--download-size BYTES] [--download-rate BYTES_PER_S]
using RxHttp;
using RxHttp.Samples;
using RxHttp.Samples.Tui;
using RxHttp.Samples.Tui.ViewModels;
using RxHttp.Samples.Tui.Views;
using Terminal.Gui.App;

string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

await using var server = Option("--url") is null ? await DemoServer.StartAsync() : null;
var baseUrl = Option("--url") ?? server!.BaseUrl;
var downloadDirectory = Option("--downloads") ?? Path.Combine(Path.GetTempPath(), "rxhttp-tui-downloads");
Directory.CreateDirectory(downloadDirectory);

await using var session = new ClientSession(baseUrl);
var api = new DemoApi(session, downloadDirectory);

using IApplication app = Application.Create();
app.Init();
var ui = new MainLoopScheduler(app);
using var search = new SearchViewModel(api.Search, ui);
var size = long.Parse(Option("--download-size") ?? $"{4 << 20}");
var rate = long.Parse(Option("--download-rate") ?? $"{512 << 10}");
using var downloads = new DownloadsViewModel(name => api.Download(name, size, rate), ui);
var feed = new LiveFeedViewModel(api.Ticks("ws" + baseUrl[4..] + "ticks"), ui);
using (var window = new MainWindow(search, downloads, feed)) app.Run(window);
