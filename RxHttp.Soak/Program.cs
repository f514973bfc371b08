using RxHttp;
using RxHttp.Soak;

// Reliability drivers, each run as its own process so descriptor and memory figures are this process's alone:
//   dotnet run --project RxHttp.Soak -c Release -- soak [requests=100000] [concurrency=64] [seed=1]
//   dotnet run --project RxHttp.Soak -c Release -- bounds <scenario> [maxBodySize]
// Exit code 0 when every invariant held, 1 otherwise, 2 for bad arguments.
return args.FirstOrDefault() switch
{
    "soak" => await SoakDriver.RunAsync(
        args.Length > 1 ? int.Parse(args[1]) : 100_000,
        args.Length > 2 ? int.Parse(args[2]) : 64,
        args.Length > 3 ? int.Parse(args[3]) : 1),
    "bounds" when args.Length > 1 && BoundsProbe.Scenarios.Contains(args[1]) =>
        await BoundsProbe.RunAsync(args[1], args.Length > 2 ? long.Parse(args[2]) : ClientSessionOptions.DefaultMaxBodySize),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: RxHttp.Soak soak [requests] [concurrency] [seed]");
    Console.Error.WriteLine("       RxHttp.Soak bounds <" + string.Join("|", BoundsProbe.Scenarios) + "> [maxBodySize]");
    return 2;
}
