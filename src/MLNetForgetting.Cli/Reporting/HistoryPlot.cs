using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Training;
using ScottPlot;

namespace MLNetForgetting.Cli.Reporting;

/// <summary>What <see cref="HistoryPlot"/> draws.</summary>
public enum PlotKind
{
    /// <summary>Training loss per update, with a dashed vertical mark at every embedding reset.</summary>
    Loss,
    /// <summary>A validation metric (default "loss") at each evaluation.</summary>
    Validation,
}

/// <summary>Curves of one or more training histories in one ScottPlot chart, saved as PNG or SVG.</summary>
public static class HistoryPlot
{
    /// <summary>One curve: its legend text and its history.</summary>
    public sealed record Series(string Label, TrainingHistory History);

    /// <summary>
    /// Draws <paramref name="series"/> and saves to <paramref name="path"/> (.png or .svg).
    /// <paramref name="smooth"/> &gt; 1 replaces each loss by the mean of the last that many updates (raw MLM loss is noisy).
    /// </summary>
    public static void Save(IReadOnlyList<Series> series, string path, PlotKind kind, int smooth = 1, string metric = "loss",
        string? title = null, int width = 1000, int height = 600, IReadOnlyList<(double Value, string Label)>? references = null)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var (label, history) = (series[i].Label, series[i].History);
            var color = palette.GetColor(i);
            double[] xs, ys;
            if (kind == PlotKind.Loss)
            {
                if (history.Steps.Count == 0) throw new InvalidDataException($"history '{label}' has no updates to plot");
                xs = history.Steps.Select(s => (double)s.Step).ToArray();
                ys = MovingAverage(history.Steps.Select(s => s.Loss).ToArray(), smooth);
            }
            else
            {
                var points = history.Validations.Where(v => v.Metrics.ContainsKey(metric)).ToArray();
                if (points.Length == 0)
                    throw new InvalidDataException($"history '{label}' has no validation '{metric}' (pretrain with --validation to record one)");
                xs = points.Select(v => (double)v.Step).ToArray();
                ys = points.Select(v => v.Metrics[metric]).ToArray();
            }
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = label;
            line.LineWidth = 1.5f;
            line.MarkerSize = kind == PlotKind.Loss ? 0 : 5;
            foreach (var reset in history.Events.Where(e => e.Kind == HistoryNames.ResetEvent))
            {
                var mark = plot.Add.VerticalLine(reset.Step, width: 1, color: color.WithAlpha(0.45));
                mark.LinePattern = LinePattern.Dashed;
            }
        }
        // Reference levels (e.g. the unigram entropy of the corpus: the loss of a model that ignores context).
        foreach (var (value, label) in references ?? [])
        {
            var level = plot.Add.HorizontalLine(value, width: 1.5f, color: Colors.Black.WithAlpha(0.6));
            level.LinePattern = LinePattern.Dotted;
            level.LegendText = label;
        }
        string what = kind == PlotKind.Loss ? (smooth > 1 ? $"training loss (mean of {smooth} updates)" : "training loss") : $"validation {metric}";
        plot.Title(title ?? $"{char.ToUpperInvariant(what[0])}{what[1..]}; dashed lines: embedding resets");
        plot.XLabel("update");
        plot.YLabel(kind == PlotKind.Loss ? "masked-LM loss" : metric);
        plot.ShowLegend(Alignment.UpperRight);

        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".png": plot.SavePng(path, width, height); break;
            case ".svg": plot.SaveSvg(path, width, height); break;
            default: throw new CliUsageException($"--output '{path}' must end in .png or .svg");
        }
    }

    /// <summary>Trailing mean over <paramref name="window"/> values (shorter at the start).</summary>
    public static double[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        if (window <= 1) return values.ToArray();
        var result = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
