using RxHttp.Cli;

using var interrupt = new InterruptSignal();
return await CliApp.RunAsync(args, CliIO.FromConsole(interrupt.Token));
