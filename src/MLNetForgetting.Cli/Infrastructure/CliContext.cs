using Microsoft.ML;
using Microsoft.ML.Runtime;
using Spectre.Console;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// What a command needs from its surroundings: the output writers, a Spectre console over stdout,
/// whether that console is a live terminal, <c>--verbose</c>, and the cancellation token that Ctrl+C
/// (or a test) cancels. Commands write only through this, so they run the same in a shell and in-process in tests.
/// </summary>
public sealed class CliContext
{
    /// <summary>Creates the context; <paramref name="interactive"/> turns on live progress bars and colours.</summary>
    public CliContext(TextWriter stdout, TextWriter stderr, bool interactive, bool verbose, CancellationToken cancellationToken)
    {
        Out = stdout;
        Err = stderr;
        Interactive = interactive;
        Verbose = verbose;
        CancellationToken = cancellationToken;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        // Redirected output has no terminal width; 160 columns keeps table rows on one line in logs.
        if (!interactive) Console.Profile.Width = 160;
    }

    /// <summary>Standard output: results, tables, progress lines, warnings.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: only the one-line error (and with --verbose its stack trace).</summary>
    public TextWriter Err { get; }

    /// <summary>Spectre console writing to <see cref="Out"/>.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>True on a live terminal: progress bars instead of periodic lines.</summary>
    public bool Interactive { get; }

    /// <summary>--verbose: library log messages and stack traces.</summary>
    public bool Verbose { get; }

    /// <summary>Cancelled by Ctrl+C / SIGTERM (or by a test).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Writes a plain line to stdout.</summary>
    public void WriteLine(string text = "")
    {
        // Plain text goes straight to the writer when redirected, so Spectre never wraps a log line.
        if (Interactive) Console.WriteLine(text);
        else { Out.WriteLine(text); Out.Flush(); }
    }

    /// <summary>Writes "warning: …" to stdout (stderr is kept for the one error line, so scripts can capture it as the reason).</summary>
    public void Warning(string text)
    {
        if (Interactive) Console.MarkupLine("[yellow]warning:[/] " + Markup.Escape(text));
        else WriteLine("warning: " + text);
    }

    /// <summary>
    /// An MLContext with <paramref name="seed"/> whose log reaches the console: warnings always,
    /// informational messages of the components (corpus size, resume point, …) with --verbose.
    /// </summary>
    public MLContext CreateMLContext(int seed)
    {
        var ml = new MLContext(seed);
        ml.Log += (_, e) =>
        {
            if (e.Kind >= ChannelMessageKind.Warning) Warning(e.RawMessage);
            else if (Verbose && e.Kind == ChannelMessageKind.Info) WriteLine($"[{e.Source}] {e.RawMessage}");
        };
        return ml;
    }
}
