using System.Diagnostics;
using BenchmarkDotNet.Running;
using RxHttp.Benchmarks;

// First, so that a cold-start child's figures count from the start of Main.
var sinceMain = Stopwatch.StartNew();
if (args.Length > 0 && args[0] == "cold-once") return await ColdStartProbe.OnceAsync(args, sinceMain);

// Side-by-side load run (default) or BenchmarkDotNet micro-benchmarks ("micro").
//   dotnet run -c Release --project RxHttp.Benchmarks -- [--quick] [--server nginx]
//   dotnet run -c Release --project RxHttp.Benchmarks -- micro [--filter *Parser*]
if (args.Length > 0 && args[0] == "micro")
{
    var rest = args.Skip(1).ToArray();
    BenchmarkSwitcher.FromAssembly(typeof(LoadRunner).Assembly).Run(rest.Length == 0 ? ["--filter", "*"] : rest);
    return 0;
}
using var listeners = TelemetryListeners.StartIfAsked();
if (args.Length > 0 && args[0] == "ws-server") return await WsScale.ServeAsync();
if (args.Length > 0 && args[0] == "wsconnect") return await WsScale.ProbeAsync(args);
if (args.Length > 0 && args[0] == "cold") return await ColdStartProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "rx") return await RxShapeProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "cpushape") return await CpuShapeProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "fake") return FakeHttpProbe.Run(args);
if (args.Length > 0 && args[0] == "cpu") return await AllocationProfile.LoopAsync(args);
if (args.Length > 0 && args[0] == "download") return await DownloadVariants.RunAsync(args);
if (args.Length > 0 && args[0] == "xfer") return await TransferProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "upload") return await UploadProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "latency") return await LatencyProbe.RunAsync(args);
if (args.Length > 0 && args[0] == "allocs") return await AllocationProfile.RunAsync(args);
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}
try
{
    return await new LoadRunner(LoadOptions.Parse(args)).RunAsync();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
