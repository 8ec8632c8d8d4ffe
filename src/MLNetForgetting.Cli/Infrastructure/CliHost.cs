using System.CommandLine;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// What every command's action runs through: it builds the <see cref="CliContext"/> from the parse
/// result (--verbose) and turns any exception into one error line and an exit code
/// (<see cref="ErrorReporter"/>). A command therefore only parses its options, calls the library
/// and returns <see cref="ExitCodes.Success"/>.
/// </summary>
public sealed class CliHost(TextWriter stdout, TextWriter stderr, bool interactive, CancellationToken cancellationToken, Option<bool> verbose)
{
    /// <summary>The global --verbose option (recursive, on the root command).</summary>
    public Option<bool> VerboseOption { get; } = verbose;

    /// <summary>Sets <paramref name="command"/>'s action to run <paramref name="run"/> inside the shared error handling.</summary>
    public Command SetAction(Command command, Func<ParseResult, CliContext, int> run)
    {
        command.SetAction(parseResult =>
        {
            var context = new CliContext(stdout, stderr, interactive, parseResult.GetValue(VerboseOption), cancellationToken);
            try
            {
                return run(parseResult, context);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, stderr, context.Verbose);
            }
        });
        return command;
    }
}
