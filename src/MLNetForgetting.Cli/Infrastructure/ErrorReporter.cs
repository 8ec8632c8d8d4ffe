using System.Reflection;
using System.Text.RegularExpressions;
using MLNetForgetting.Training;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// The one place that turns an exception into an exit code and a single <c>error: …</c> line on
/// stderr. The stack trace follows only with <c>--verbose</c>, so scripts and users see one clear
/// reason and developers can still get the whole story.
/// </summary>
public static partial class ErrorReporter
{
    /// <summary>Writes the error line (and with <paramref name="verbose"/> the full exception) and returns the exit code.</summary>
    public static int Report(Exception exception, TextWriter stderr, bool verbose)
    {
        var e = Unwrap(exception);
        var (code, message) = Classify(e);
        stderr.WriteLine("error: " + message);
        if (verbose) stderr.WriteLine(exception.ToString());
        stderr.Flush();
        return code;
    }

    /// <summary>The exit code and one-line reason for <paramref name="e"/>.</summary>
    public static (int ExitCode, string Message) Classify(Exception e) => e switch
    {
        CliUsageException => (ExitCodes.BadArguments, OneLine(e.Message)),
        CliCancelledException => (ExitCodes.Cancelled, OneLine(e.Message)),
        OperationCanceledException => (ExitCodes.Cancelled, "cancelled"),
        // Missing inputs and invalid option values are the user's command line, not a failure of the run.
        FileNotFoundException f => (ExitCodes.BadArguments, OneLine(f.FileName is { } name && !f.Message.Contains(name, StringComparison.Ordinal) ? $"{f.Message} ({name})" : f.Message)),
        DirectoryNotFoundException or ArgumentException => (ExitCodes.BadArguments, OneLine(e.Message)),
        TrainingDivergedException d => (ExitCodes.Failure, OneLine($"training diverged at update {d.Step}: {d.Message}")),
        UnauthorizedAccessException or IOException or InvalidDataException or FormatException or InvalidOperationException
            => (ExitCodes.Failure, OneLine(e.Message)),
        _ => (ExitCodes.Failure, OneLine($"unexpected {e.GetType().Name}: {e.Message} (rerun with --verbose for the stack trace)")),
    };

    // Reflection and task plumbing hide the exception the library actually threw.
    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case TargetInvocationException { InnerException: { } inner }: e = inner; continue;
                case AggregateException { InnerExceptions.Count: 1 } a: e = a.InnerExceptions[0]; continue;
                case TypeInitializationException { InnerException: { } ti }: e = ti; continue;
                default: return e;
            }
        }
    }

    /// <summary>Collapses a (possibly multi-line) message into one line.</summary>
    public static string OneLine(string message) => LineBreaks().Replace(message.Trim(), " ");

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex LineBreaks();
}
