using System.Collections.Concurrent;
using System.Diagnostics;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// Starts a [ChildAction] in a fresh <c>dotnet</c> process, watches its stdout line by line, and
/// SIGKILLs it (<see cref="Process.Kill(bool)"/> on Linux) as soon as a line satisfies a predicate.
/// </summary>
internal static class KillableChild
{
    public sealed record Outcome(bool Killed, int ExitCode, IReadOnlyList<string> Lines, string StdErr, string? TriggerLine);

    public static Outcome RunUntil(string action, IEnumerable<string> args, Func<string, bool> killWhen, TimeSpan? timeout = null, TimeSpan? delayBeforeKill = null)
    {
        var psi = MLNetForgetting.Tests.Infrastructure.ChildProcess.StartInfo(action, args);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the child dotnet process.");
        var lines = new ConcurrentQueue<string>();
        var stderr = process.StandardError.ReadToEndAsync();
        string? trigger = null;
        bool killed = false;
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        while (process.StandardOutput.ReadLine() is { } line)
        {
            lines.Enqueue(line);
            if (trigger is null && killWhen(line))
            {
                trigger = line;
                if (delayBeforeKill is { } d) Thread.Sleep(d);
                try { process.Kill(entireProcessTree: true); killed = true; } catch (InvalidOperationException) { /* already exited */ }
                break;
            }
            if (deadline.Elapsed > limit)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Child action '{action}' did not reach its kill point in time.");
            }
        }
        if (!process.WaitForExit(limit)) { process.Kill(entireProcessTree: true); throw new TimeoutException($"Child action '{action}' did not exit."); }
        process.WaitForExit();
        // If it exited by itself before the kill landed, it was not killed.
        if (killed && process.ExitCode == 0 && lines.Any(l => l == "done")) killed = false;
        return new Outcome(killed, process.ExitCode, lines.ToArray(), stderr.Result, trigger);
    }
}
