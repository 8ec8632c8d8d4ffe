using System.Runtime.InteropServices;
using MLNetForgetting.Cli;

// Ctrl+C / SIGTERM cancel a token that the library checks between updates: it writes a checkpoint
// and the command exits with 130 and a --resume hint. A second Ctrl+C kills the process at once.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return; // second press: let the runtime terminate
    e.Cancel = true;
    cancellation.Cancel(); // the progress display says "stopping…"
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});
bool interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null;
return MlnfCli.Run(args, Console.Out, Console.Error, cancellation.Token, interactive);
