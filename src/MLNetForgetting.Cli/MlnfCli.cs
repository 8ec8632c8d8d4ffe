using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using MLNetForgetting.Cli.Commands;
using MLNetForgetting.Cli.Infrastructure;

namespace MLNetForgetting.Cli;

/// <summary>
/// The <c>mlnf</c> command line as a function: arguments and output writers in, exit code out. The
/// executable's Main calls it with the real console; tests call it in-process with string writers.
/// </summary>
public static class MlnfCli
{
    /// <summary>
    /// The commands of the tool. A new command is one more entry: a factory that builds its
    /// <see cref="Command"/> and sets its action through <see cref="CliHost.SetAction"/>.
    /// </summary>
    public static IReadOnlyList<Func<CliHost, Command>> Commands { get; } = new Func<CliHost, Command>[]
    {
        PretrainCommand.Create,
        RelearnCommand.Create,
        FinetuneCommand.Create,
        AssembleCommand.Create,
        EvaluateCommand.Create,
        ListCommand.Create,
        ExportCommand.Create,
        ImportCommand.Create,
        EncodeCommand.Create,
        CipherCommand.Create,
        PlotCommand.Create,
        DemoCommand.Create,
    };

    private const string Description =
        "mlnf: active-forgetting pretraining, cross-lingual transfer (relearn, finetune, assemble, evaluate) and LiST few-shot learning with RoBERTa-style language models (ML.NET + TorchSharp). Start with 'mlnf demo'.\n\n" +
        "Exit codes: 0 success, 1 failure while running (bad data, I/O, diverged training), " +
        "2 bad arguments (nothing was run), 130 cancelled by Ctrl+C (a checkpoint was written; rerun with --resume).";

    /// <summary>
    /// Parses and runs <paramref name="args"/>. Errors print one line <c>error: …</c> on
    /// <paramref name="stderr"/> (plus the stack trace with --verbose); the return value is an <see cref="ExitCodes"/> value.
    /// </summary>
    /// <param name="args">The command line without the program name.</param>
    /// <param name="stdout">Results, tables, progress and help.</param>
    /// <param name="stderr">The error line only.</param>
    /// <param name="cancellationToken">Cancelling it stops a running command like Ctrl+C does (checkpoint, exit code 130).</param>
    /// <param name="interactive">True for a live terminal: progress bars and colours instead of plain lines.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default, bool interactive = false)
    {
        var verbose = CliOptions.Verbose();
        var host = new CliHost(stdout, stderr, interactive, cancellationToken, verbose);
        // A plain Command named "mlnf" rather than RootCommand, whose name is the host executable
        // (e.g. "testhost" or "dotnet") and would show up in usage lines.
        var help = new HelpOption();
        help.Action = new ExamplesHelpAction((HelpAction)help.Action!);
        var root = new Command("mlnf", Description) { verbose, help, new VersionOption() };
        foreach (var create in Commands) root.Subcommands.Add(create(host));
        root.SetAction(_ => { stderr.WriteLine("error: no command given (see 'mlnf --help')"); return ExitCodes.BadArguments; });

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
        {
            string command = parseResult.CommandResult.Command == root ? "mlnf" : $"mlnf {parseResult.CommandResult.Command.Name}";
            stderr.WriteLine($"error: {ErrorReporter.OneLine(parseResult.Errors[0].Message).TrimEnd('.')} (see '{command} --help')");
            return ExitCodes.BadArguments;
        }
        try
        {
            return parseResult.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false, // CliHost reports errors; this catches only help/version failures
                ProcessTerminationTimeout = null,      // Main owns Ctrl+C so the library can finish its checkpoint
            });
        }
        catch (Exception e)
        {
            return ErrorReporter.Report(e, stderr, parseResult.GetValue(verbose));
        }
    }
}
