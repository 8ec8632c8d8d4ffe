using MLNetForgetting.Cli;
using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Cli;

/// <summary>Runs <c>mlnf</c> in-process through <see cref="MlnfCli.Run"/> with string writers.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>Non-empty stderr lines.</summary>
        public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
    }

    public static Result Run(params string[] args) => Run(CancellationToken.None, args);

    public static Result Run(CancellationToken cancellationToken, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = MlnfCli.Run(args, stdout, stderr, cancellationToken);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and fails the test (showing both outputs) unless the exit code is 0.</summary>
    public static Result RunOk(params string[] args)
    {
        var r = Run(args);
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        return r;
    }

    /// <summary>A few hundred lines of the built-in synthetic English, written to <paramref name="path"/>.</summary>
    public static string WriteCorpus(string path, int lines = 300)
    {
        File.WriteAllLines(path, new SyntheticTestbed().UnlabelledCorpus("en", lines, seed: 0));
        return path;
    }

    /// <summary>Tiny-model settings that keep a pretrain run around a second.</summary>
    public static readonly string[] TinyRun = { "--preset", "Tiny", "--batch", "8", "--seq", "32", "--vocab", "320", "--lr", "3e-3" };
}
