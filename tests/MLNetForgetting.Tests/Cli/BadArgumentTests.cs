using System.Diagnostics;
using MLNetForgetting.Cli;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.Cli;

[TestClass]
public sealed class BadArgumentTests
{
    private static TempDir _dir = null!;
    private static string Corpus => _dir.File("corpus.txt");

    [ClassInitialize]
    public static void Setup(TestContext _)
    {
        _dir = new TempDir();
        CliRunner.WriteCorpus(Corpus, 50);
        File.WriteAllText(_dir.File("afile"), "not a folder");
        File.WriteAllText(_dir.File("pairs.tsv"), "premise\thypothesis\tlabel\na\tb\tentailment\n");
        File.WriteAllText(_dir.File("short.tsv"), "id\tText\n1\tfine\n2\n");
        File.WriteAllText(_dir.File("notes.csv"), "a,b\n1,2\n");
    }

    [ClassCleanup]
    public static void Cleanup() => _dir.Dispose();

    // Placeholders: {dir} is the class's temp folder, {corpus} a valid corpus.
    [TestMethod]
    [DataRow("missing input file", "pretrain --input {dir}/nope.txt --output {dir}/m.zip", "input file '{dir}/nope.txt' does not exist")]
    [DataRow("unknown option", "pretrain --input {corpus} --output {dir}/m.zip --frobnicate", "Unrecognized command or argument '--frobnicate'")]
    [DataRow("unknown command", "train --input {corpus}", "Unrecognized command or argument 'train'")]
    [DataRow("output under a file", "pretrain --input {corpus} --output {dir}/afile/m.zip", "'{dir}/afile' is a file, not a folder")]
    [DataRow("output is a folder", "pretrain --input {corpus} --output {dir}", "it is a folder")]
    [DataRow("negative K", "pretrain --input {corpus} --output {dir}/m.zip --k -3", "--k must be >= 0")]
    [DataRow("unknown preset", "pretrain --input {corpus} --output {dir}/m.zip --preset Huge", "unknown --preset 'Huge'; expected Tiny, Small or Base")]
    [DataRow("two step budgets", "pretrain --input {corpus} --output {dir}/m.zip --steps 3 --tokens 100", "use only one of --steps, --tokens")]
    [DataRow("missing TSV column", "pretrain --input {dir}/pairs.tsv --column sentence --output {dir}/m.zip", "has no column 'sentence'; its columns are 'premise', 'hypothesis', 'label'")]
    [DataRow("short TSV row", "pretrain --input {dir}/short.tsv --output {dir}/m.zip", "line 3 has 1 field(s)")]
    [DataRow("no input option", "pretrain --output {dir}/m.zip", "Option '--input' is required")]
    [DataRow("plot of a non-history", "plot --history {dir}/notes.csv --output {dir}/p.png", "is not a training history CSV")]
    [DataRow("plot to an unknown format", "plot --history {dir}/notes.csv --output {dir}/p.gif", "must end in .png or .svg")]
    [DataRow("demo data folder without English", "demo --output {dir}/demo --data {dir}", "has no raw/en")]
    public void FailsWithOneErrorLineAndNoStackTrace(string why, string commandLine, string expected)
    {
        var args = Expand(commandLine);
        var r = CliRunner.Run(args);
        Assert.AreNotEqual(0, r.ExitCode, $"{why}: {r}");
        Assert.HasCount(1, r.ErrorLines, $"{why}: stderr must be exactly one line:\n{r.StdErr}");
        StringAssert.StartsWith(r.ErrorLines[0], "error: ", why);
        StringAssert.Contains(r.ErrorLines[0], expected.Replace("{dir}", _dir.Path), why);
        Assert.IsFalse(File.Exists(_dir.File("m.zip")), $"{why}: nothing may be written");
        Assert.IsFalse(Directory.Exists(_dir.File("m.checkpoint")), $"{why}: no checkpoint folder may be left behind");

        var verbose = CliRunner.Run([.. args, "--verbose"]);
        Assert.AreEqual(r.ExitCode, verbose.ExitCode, why);
        Assert.AreEqual(r.ErrorLines[0], verbose.ErrorLines[0], "--verbose keeps the error line first");
        bool parseError = r.ErrorLines[0].Contains("--help')", StringComparison.Ordinal);
        if (!parseError) StringAssert.Contains(verbose.StdErr, "   at MLNetForgetting.", $"{why}: --verbose shows the stack trace");
    }

    [TestMethod]
    public void BadArgumentsExitWith2AndFailuresWith1()
    {
        Assert.AreEqual(ExitCodes.BadArguments, CliRunner.Run(Expand("pretrain --input {dir}/nope.txt --output {dir}/m.zip")).ExitCode);
        Assert.AreEqual(ExitCodes.BadArguments, CliRunner.Run(Expand("pretrain --input {corpus} --output {dir}/m.zip --k -3")).ExitCode);
        Assert.AreEqual(ExitCodes.Failure, CliRunner.Run(Expand("plot --history {dir}/notes.csv --output {dir}/p.png")).ExitCode, "a file that is not a history is bad data");
    }

    [TestMethod]
    public void EmptyCorpusIsABadDataFailure()
    {
        File.WriteAllText(_dir.File("blank.txt"), "\n   \n\n");
        var r = CliRunner.Run(Expand("pretrain --input {dir}/blank.txt --output {dir}/m.zip --preset Tiny --vocab 400 --steps 2"));
        Assert.AreEqual(ExitCodes.Failure, r.ExitCode, r.ToString());
        Assert.HasCount(1, r.ErrorLines);
        StringAssert.Contains(r.ErrorLines[0], "no non-empty text to train on");
    }

    [TestMethod]
    [DataRow(typeof(TrainingDivergedException), 1, "training diverged at update 7")]
    [DataRow(typeof(OperationCanceledException), 130, "cancelled")]
    [DataRow(typeof(ArgumentOutOfRangeException), 2, "BatchSize must be positive. (Parameter 'BatchSize') Actual value was 0.")]
    [DataRow(typeof(InvalidDataException), 1, "broken line one line two")]
    [DataRow(typeof(UnauthorizedAccessException), 1, "denied")]
    [DataRow(typeof(NullReferenceException), 1, "unexpected NullReferenceException")]
    public void ErrorReporterMapsExceptionsToCodesAndOneLine(Type type, int code, string expected)
    {
        Exception e = type.Name switch
        {
            nameof(TrainingDivergedException) => new TrainingDivergedException(7, "the loss is NaN"),
            nameof(ArgumentOutOfRangeException) => new ArgumentOutOfRangeException("BatchSize", 0, "BatchSize must be positive."),
            nameof(InvalidDataException) => new InvalidDataException("broken\nline one\r\nline two"),
            nameof(UnauthorizedAccessException) => new UnauthorizedAccessException("denied"),
            nameof(NullReferenceException) => new NullReferenceException("oops"),
            _ => new OperationCanceledException(),
        };
        var stderr = new StringWriter();
        // Wrapped as reflection would wrap it: the reporter unwraps to the library's exception.
        int exit = ErrorReporter.Report(new System.Reflection.TargetInvocationException(e), stderr, verbose: false);
        Assert.AreEqual(code, exit);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines);
        StringAssert.Contains(lines[0], expected);
    }

    [TestMethod]
    public void HelpListsCommandsAndShowsExamples()
    {
        var root = CliRunner.RunOk("--help");
        foreach (var command in new[] { "pretrain", "plot", "demo" }) StringAssert.Contains(root.StdOut, command);
        StringAssert.Contains(root.StdOut, "130 cancelled");
        var pretrain = CliRunner.RunOk("pretrain", "--help");
        StringAssert.Contains(pretrain.StdOut, "Examples:");
        StringAssert.Contains(pretrain.StdOut, "mlnf pretrain --input");
        Assert.IsFalse(pretrain.StdOut.Contains("--stop-after-steps", StringComparison.Ordinal), "test hooks stay hidden");
    }

    /// <summary>
    /// The real executable in a child process: the exit code and the single error line reach the
    /// shell (no unhandled-exception dump from the runtime, nothing but the line on stderr).
    /// </summary>
    [TestMethod]
    public void ExecutableReportsExitCodeAndOneLineToTheShell()
    {
        string mlnf = Path.Combine(AppContext.BaseDirectory, "mlnf.dll");
        Assert.IsTrue(File.Exists(mlnf), $"{mlnf} not found next to the tests");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { mlnf, "pretrain", "--input", _dir.File("nope.txt"), "--output", _dir.File("m.zip") }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(TimeSpan.FromSeconds(60)), "mlnf did not exit");
        process.WaitForExit();
        Assert.AreEqual(2, process.ExitCode, $"stdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        Assert.AreEqual($"error: input file '{_dir.File("nope.txt")}' does not exist\n", stderr.Result.Replace("\r\n", "\n"));
    }

    private static string[] Expand(string commandLine) =>
        commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Replace("{corpus}", Corpus).Replace("{dir}", _dir.Path)).ToArray();
}
