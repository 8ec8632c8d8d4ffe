using System.Diagnostics;

namespace MLNetForgetting.Tests.Infrastructure;

/// <summary>Runs a [ChildAction] of this test assembly in a fresh <c>dotnet</c> process.</summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>Runs <c>dotnet MLNetForgetting.Tests.dll child <paramref name="action"/> <paramref name="args"/></c>.</summary>
    public static Result Run(string action, IEnumerable<string> args, TimeSpan? timeout = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = StartInfo(action, args);
        if (environment is not null)
            foreach (var (key, value) in environment) psi.Environment[key] = value; // null removes the variable
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the child dotnet process.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Child action '{action}' did not finish in time. Stderr so far: {stderr.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Like <see cref="Run"/> but fails the test on a non-zero exit code, showing the child's output.</summary>
    public static Result RunChecked(string action, params string[] args) => RunChecked(action, args, environment: null);

    /// <summary><see cref="RunChecked(string, string[])"/> with extra (or, for null values, removed) environment variables.</summary>
    public static Result RunChecked(string action, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment)
    {
        var r = Run(action, args, environment: environment);
        InconclusiveIfTheChildWas(r);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"Child action '{action}' exited with {r.ExitCode}.\nstdout:\n{r.StdOut}\nstderr:\n{r.StdErr}");
        return r;
    }

    /// <summary>
    /// A child that stopped on Assert.Inconclusive (e.g. real data missing in a clone without ../shared) makes
    /// the calling test inconclusive with the child's reason, not failed.
    /// </summary>
    public static void InconclusiveIfTheChildWas(Result r)
    {
        const string marker = "AssertInconclusiveException: ";
        int at = r.StdErr.IndexOf(marker, StringComparison.Ordinal);
        if (r.ExitCode != 0 && at >= 0)
            Assert.Inconclusive("In the child process: " + r.StdErr[(at + marker.Length)..].Split('\n')[0].Trim());
    }

    /// <summary>The start info of <c>dotnet MLNetForgetting.Tests.dll child <paramref name="action"/> <paramref name="args"/></c>, output redirected.</summary>
    internal static ProcessStartInfo StartInfo(string action, IEnumerable<string> args)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        psi.ArgumentList.Add(assembly);
        psi.ArgumentList.Add("child");
        psi.ArgumentList.Add(action);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    // The host running this test is dotnet itself (testhost is started through it) unless DOTNET_HOST_PATH says otherwise.
    private static string DotnetHost()
    {
        string? hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        string? main = Environment.ProcessPath;
        if (main is not null && Path.GetFileNameWithoutExtension(main) == "dotnet") return main;
        return "dotnet";
    }
}
