using System.Diagnostics;
using System.Globalization;
using MLNetForgetting.Training;
using Spectre.Console;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Shows <see cref="TrainingProgress"/> of a long operation: a Spectre.Console progress bar with
/// step/total, loss, tokens/s and ETA on an interactive terminal; plain periodic lines when output is
/// redirected (CI logs, tests), where a live bar would print escape codes or nothing.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> with a progress sink shown under <paramref name="title"/>.</summary>
    public static T Run<T>(CliContext context, string title, Func<IProgress<TrainingProgress>, T> work)
    {
        const string Stopping = "stopping after the current update and writing a checkpoint (Ctrl+C again to abort)";
        if (!context.Interactive)
        {
            using var _ = context.CancellationToken.Register(() => { context.Out.WriteLine($"{title}  {Stopping}"); context.Out.Flush(); });
            return work(new PlainProgress(context.Out, title));
        }
        return context.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), autoStart: true, maxValue: 1);
                // Said in the live display itself: a plain write from the signal handler would tear it.
                using var _ = context.CancellationToken.Register(() => task.Description = Markup.Escape($"{title}  {Stopping}"));
                return work(new SpectreProgress(task, title));
            });
    }

    /// <summary>"step 120/400  loss 3.2101  1,234 tok/s  ETA 00:01:02".</summary>
    public static string Describe(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  {p.TokensPerSecond:N0} tok/s  ETA {Eta(p.EstimatedRemaining)}");

    private static string Eta(TimeSpan t) => t.TotalHours >= 24 ? $"{(int)t.TotalDays}d{t:hh\\:mm}" : t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Updates one Spectre progress task; Spectre redraws it on its own timer.</summary>
    private sealed class SpectreProgress(ProgressTask task, string title) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.TotalSteps > 0 && task.MaxValue != p.TotalSteps) task.MaxValue = p.TotalSteps;
            task.Value = p.Step;
            task.Description = Markup.Escape($"{title}  {Describe(p)}");
        }
    }

    /// <summary>
    /// One line at the first and last update and then about every 5% of the run or every 15 s,
    /// whichever comes first, so a log shows progress without one line per update.
    /// </summary>
    internal sealed class PlainProgress(TextWriter output, string title) : IProgress<TrainingProgress>
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
        private long _lastStep = long.MinValue;

        public void Report(TrainingProgress p)
        {
            long every = Math.Max(1, p.TotalSteps / 20);
            bool due = _lastStep == long.MinValue || p.Step >= p.TotalSteps || p.Step - _lastStep >= every || _sinceLine.Elapsed >= Interval;
            if (!due) return;
            _lastStep = p.Step;
            _sinceLine.Restart();
            output.WriteLine($"{title}  {Describe(p)}");
            output.Flush();
        }
    }
}

/// <summary>
/// Passes progress on to <see cref="Target"/> (the display, attached once it is shown) and remembers
/// the last update, so a cancelled command can say where it stopped. With a positive
/// <c>stopAfterSteps</c> it cancels <see cref="Cancellation"/> after that many reports — a
/// deterministic stand-in for Ctrl+C in tests (hidden option <c>--stop-after-steps</c>).
/// </summary>
public sealed class ProgressTracker(CancellationTokenSource cancellation, long stopAfterSteps = 0) : IProgress<TrainingProgress>
{
    private long _reports;

    /// <summary>The source cancelled after <c>stopAfterSteps</c> reports; its token goes to the library.</summary>
    public CancellationTokenSource Cancellation { get; } = cancellation;

    /// <summary>Where reports go (null: nowhere yet).</summary>
    public IProgress<TrainingProgress>? Target { get; set; }

    /// <summary>The most recent report, or null before the first update.</summary>
    public TrainingProgress? Last { get; private set; }

    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        Last = value;
        Target?.Report(value);
        if (stopAfterSteps > 0 && ++_reports >= stopAfterSteps) Cancellation.Cancel();
    }
}
