using System.CommandLine;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// The checkpoint options of every training command (--checkpoint-dir, --checkpoint-every, --resume and
/// the hidden test hook --stop-after-steps), declared once so they read and behave the same everywhere.
/// </summary>
public sealed class CheckpointOptions
{
    /// <summary>--checkpoint-dir.</summary>
    public Option<string?> Directory { get; } = new("--checkpoint-dir")
    {
        Description = "Checkpoint folder, kept after the run (default: <output>.checkpoint, removed after a successful run)", HelpName = "path",
    };

    /// <summary>--checkpoint-every.</summary>
    public Option<long> Every { get; } = CliOptions.Number("--checkpoint-every", "Write a checkpoint every N updates (0: only at the end and on Ctrl+C)", 0L).AtLeast(0);

    /// <summary>--resume.</summary>
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue from the checkpoint of an interrupted run (same command line and seed)" };

    /// <summary>Tests stop a run deterministically with this instead of sending Ctrl+C at the right moment.</summary>
    public Option<long> StopAfter { get; } = new("--stop-after-steps") { Hidden = true, Description = "Cancel after N updates as Ctrl+C would" };

    /// <summary>The four options, to add to a command.</summary>
    public IEnumerable<Option> All => new Option[] { Directory, Every, Resume, StopAfter };

    /// <summary>
    /// The checkpoint folder for <paramref name="outputPath"/>: the given one (created and checked now), or the
    /// scratch folder beside the output (whose folder was just proved writable; the library creates it).
    /// </summary>
    public (string Path, bool Scratch) Resolve(ParseResult parse, string outputPath)
    {
        string? given = parse.GetValue(Directory);
        return given is null
            ? (Commands.PretrainCommand.DefaultSibling(outputPath, ".checkpoint"), true)
            : (PathChecks.OutputFolder(given, "--checkpoint-dir"), false);
    }
}
