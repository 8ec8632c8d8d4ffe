using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// The standard help followed by an "Examples:" section for the command asked about. Examples are
/// kept out of the description so the root's command list stays one line per command.
/// </summary>
public sealed class ExamplesHelpAction(HelpAction standard) : SynchronousCommandLineAction
{
    /// <inheritdoc/>
    public override int Invoke(ParseResult parseResult)
    {
        int result = standard.Invoke(parseResult);
        var examples = CliOptions.Examples(parseResult.CommandResult.Command);
        if (examples.Count > 0)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var e in examples) output.WriteLine("  " + e);
            output.WriteLine();
        }
        return result;
    }
}
