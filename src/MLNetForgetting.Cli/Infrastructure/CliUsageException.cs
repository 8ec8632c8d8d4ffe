namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// A command line that names something unusable (a missing input, an unwritable output, a file of the
/// wrong layout). Reported as one line and exit code <see cref="ExitCodes.BadArguments"/>; thrown by the
/// shared checks before any work starts.
/// </summary>
public sealed class CliUsageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The command was stopped by cancellation after saving what it could; <see cref="Exception.Message"/>
/// tells how to continue (e.g. rerun with --resume). Exit code <see cref="ExitCodes.Cancelled"/>.
/// </summary>
public sealed class CliCancelledException(string message, Exception? inner = null) : OperationCanceledException(message, inner);
