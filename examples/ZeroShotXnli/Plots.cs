using MLNetForgetting.Training;
using ScottPlot;

namespace ZeroShotXnli;

/// <summary>The adaptation-curve charts (as <c>mlnf plot</c> draws them): one line per model.</summary>
internal static class Plots
{
    /// <summary>A validation metric against relearning updates.</summary>
    public static void Validation(IReadOnlyList<(string Label, TrainingHistory History)> series, string metric, string path, string title) =>
        Save(series.Select(s => (s.Label, s.History.Validations.Where(v => v.Metrics.ContainsKey(metric)).Select(v => ((double)v.Step, v.Metrics[metric])).ToArray())).ToList(),
            path, title, metric, markers: true);

    /// <summary>The training loss against updates, each point the mean of the last <paramref name="smooth"/> updates.</summary>
    public static void Loss(IReadOnlyList<(string Label, TrainingHistory History)> series, int smooth, string path, string title) =>
        Save(series.Select(s => (s.Label, s.History.Steps.Select((step, i) =>
            ((double)step.Step, s.History.Steps.Skip(Math.Max(0, i + 1 - smooth)).Take(Math.Min(i + 1, smooth)).Average(x => x.Loss))).ToArray())).ToList(),
            path, title, "masked-LM loss", markers: false);

    private static void Save(IReadOnlyList<(string Label, (double X, double Y)[] Points)> series, string path, string title, string yLabel, bool markers)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var line = plot.Add.Scatter(series[i].Points.Select(p => p.X).ToArray(), series[i].Points.Select(p => p.Y).ToArray(), palette.GetColor(i));
            line.LegendText = series[i].Label;
            line.LineWidth = 1.5f;
            line.MarkerSize = markers ? 5 : 0;
        }
        plot.Title(title);
        plot.XLabel("update");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 600);
    }
}
